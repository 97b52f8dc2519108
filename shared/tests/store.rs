//! `DynamoStore` against DynamoDB Local: every access pattern of `shared::store`, the
//! number of DynamoDB calls the store promises (counted by `env.calls`, an interceptor on
//! `env.store`'s client), concurrent writers, items of unexpected shape and an unreachable
//! endpoint. Each test has its own table (`TestEnv`). Keys come from
//! `shared::store::keys`; raw items are read with `env.raw`, which is not counted.

use std::collections::HashMap;
use std::time::{Duration as StdDuration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use shared::domain::token::{issue_token, random_id, TokenDigest};
use shared::domain::{
    Account, AccountId, BillingPeriod, Credentials, Email, Plan, Product, Serial, Subscription, SystemCode, Terms,
    TermsAcceptance, Upgrade, Version,
};
use shared::events::{PendingEvent, PortalEvent};
use shared::mail::Mail;
use shared::outbox::PendingMail;
use shared::store::{
    keys, AccountWriter, Accounts, AttemptReservation, CatalogReader, CatalogWriter, DynamoStore, Key, KnownDevice,
    LoginAttempts, LoginClient, LoginFacts, Logins, Outbox, OutboxPage, PasswordResets, ResetToken, SerialValidation,
    SerialWriter, Session, Sessions, StoreError, SubscriptionReader, TermsRecord, UpgradeCommitError, UpgradeWriter,
    ValidationFacts, DEVICE_DAYS, LOCK_MINUTES, MAX_FAILED_LOGINS,
};
use shared::testing::{hasher, TestEnv};

const PASSWORD: &str = "Comercial-2026";
const COMPANY: &str = "Comercial Ruiz SA de CV";

type Item = HashMap<String, AttributeValue>;

// ------------------------------------------------------------------ helpers

fn av(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A client of the test's table whose calls are not counted in `env.calls`.
fn uncounted(env: &TestEnv) -> aws_sdk_dynamodb::Client {
    shared::aws::dynamodb(&env.sdk)
}

/// The sort keys of every item of one partition (strongly consistent, not counted).
async fn raw_sort_keys(env: &TestEnv, pk: &str) -> Vec<String> {
    let out = uncounted(env)
        .query()
        .table_name(env.store.table())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", av(pk))
        .consistent_read(true)
        .send()
        .await
        .expect("raw Query");
    out.items
        .unwrap_or_default()
        .iter()
        .map(|i| text(i, "sk").expect("every item has a string sk").to_string())
        .collect()
}

/// Deletes the item at `key` behind the store's back (not counted).
async fn raw_delete(env: &TestEnv, key: &Key) {
    uncounted(env)
        .delete_item()
        .table_name(env.store.table())
        .set_key(Some(key.item()))
        .send()
        .await
        .expect("raw DeleteItem");
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn system(code: &str) -> SystemCode {
    SystemCode::parse(code).unwrap()
}

fn new_account_id() -> AccountId {
    AccountId::generate().unwrap()
}

/// An instant without sub-second part: what epoch-second attributes keep.
fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap()
}

/// An instant to the microsecond: what the outbox keeps of a mail's creation time (its
/// sort key is fixed-width RFC 3339 with microseconds).
fn whole_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// A session of `account` as a login makes it, not stored yet.
fn unsaved_session(account: &AccountId, expires_at: DateTime<Utc>) -> Session {
    Session {
        digest: issue_token().unwrap().digest,
        id: random_id().unwrap(),
        account: account.clone(),
        created_at: Utc::now(),
        expires_at: whole_seconds(expires_at),
        last_used_at: Utc::now(),
        password_epoch: 0,
        source_ip: "203.0.113.10".into(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) PortalTest/1.0".into(),
        device: Some(issue_token().unwrap().digest),
    }
}

async fn new_session(env: &TestEnv, account: &AccountId, expires_at: DateTime<Utc>) -> Session {
    let session = unsaved_session(account, expires_at);
    env.store.create_session(&session).await.unwrap();
    session
}

async fn credentials(env: &TestEnv, email: &Email) -> Credentials {
    env.store.credentials(email).await.unwrap().unwrap_or_else(|| panic!("{email} logs in"))
}

fn sae() -> Product {
    Product {
        system: system("SAE"),
        name: "Aspel SAE".into(),
        latest_version: Version::parse("8.0").unwrap(),
        terms: Terms { version: "2022-10".into(), text: "Términos de la actualización".into() },
    }
}

fn accepted() -> TermsAcceptance {
    TermsAcceptance { accepted: true, terms_version: "2022-10".into() }
}

/// A SAE 7.0 monthly subscription, paid until `next_payment_on`, never activated.
fn sae7(account: &AccountId, next_payment_on: NaiveDate) -> Subscription {
    Subscription {
        serial: Serial::generate().unwrap(),
        account: account.clone(),
        system: system("SAE"),
        version: Version::parse("7.0").unwrap(),
        users: 2,
        plan: Plan::Subscription,
        billing_period: Some(BillingPeriod::Monthly),
        activated_on: None,
        next_payment_on: Some(next_payment_on),
        valid_until: None,
        upgraded_from: None,
        superseded_by: None,
    }
}

fn upgrade_of(env: &TestEnv, old: &Subscription, new_serial: Serial) -> Upgrade {
    old.upgrade(Some(&sae()), &accepted(), new_serial, env.today()).expect("a SAE 7.0 subscription upgrades")
}

fn terms_record(at: DateTime<Utc>) -> TermsRecord {
    TermsRecord {
        terms_version: "2022-10".into(),
        accepted_at: at,
        source_ip: "203.0.113.10".into(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) PortalTest/1.0".into(),
    }
}

/// The mail announcing `upgrade` to `to`, created at `created_at` (to the microsecond).
fn mail_for(upgrade: &Upgrade, to: &Email, created_at: DateTime<Utc>) -> PendingMail {
    let mail = Mail {
        to: to.to_string(),
        subject: "Actualización de versión para tu sistema Aspel SAE".into(),
        text: format!("Tu nuevo número de serie es {}", upgrade.new.serial),
        html: format!("<p>Tu nuevo número de serie es <strong>{}</strong></p>", upgrade.new.serial),
    };
    PendingMail::new(upgrade.new.serial.to_string(), mail, whole_micros(created_at))
}

/// Commits `up` as the upgrade function does: with the owner's company, the terms, the
/// mail to `to` and the event.
async fn commit(store: &DynamoStore, up: &Upgrade, to: &Email) -> Result<(), UpgradeCommitError> {
    store
        .commit_upgrade(up, COMPANY, &terms_record(Utc::now()), &mail_for(up, to, Utc::now()), &upgrade_event(up))
        .await
}

/// The `SerialUpgraded` event an upgrade commits with.
fn upgrade_event(upgrade: &Upgrade) -> PendingEvent {
    PendingEvent::new(&PortalEvent::upgraded(&upgrade.previous, &upgrade.new, "2022-10", Utc::now()), Utc::now())
}

/// The `SerialActivated` event an activation commits with.
fn activation_event(sub: &Subscription, on: NaiveDate) -> PendingEvent {
    PendingEvent::new(&PortalEvent::activated(sub, on), Utc::now())
}

/// Adds an upgradable SAE 7.0 serial to `owner` and commits its upgrade, the mail dated
/// `mail_created_at`.
async fn upgraded(env: &TestEnv, owner: &Account, mail_created_at: DateTime<Utc>) -> (Upgrade, PendingMail) {
    let old = sae7(&owner.id, env.days_from_today(20));
    env.store.add_subscription(&old).await.unwrap();
    let up = upgrade_of(env, &old, Serial::generate().unwrap());
    let mail = mail_for(&up, &owner.email, mail_created_at);
    // Committed when its mail was made (the transaction leases the mail from then on).
    env.store.commit_upgrade(&up, COMPANY, &terms_record(mail_created_at), &mail, &upgrade_event(&up)).await.unwrap();
    (up, mail)
}

fn sorted(mut subs: Vec<Subscription>) -> Vec<Subscription> {
    subs.sort_by(|a, b| a.serial.cmp(&b.serial));
    subs
}

// ------------------------------------------------------------------ accounts

#[tokio::test]
async fn an_account_is_read_by_its_id_in_one_call_and_an_unknown_id_is_none() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let added = env.add_account(&email, PASSWORD, COMPANY).await;

    let before = env.calls.now();
    let found = env.store.account(&added.id).await.unwrap();
    assert_eq!(env.calls.since(before).calls, 1, "one GetItem");
    assert_eq!(found, Some(added.clone()));
    assert_eq!(found.unwrap().email, email);
    assert_eq!(env.store.account(&new_account_id()).await.unwrap(), None);
    let profile = env.raw(&keys::profile(&added.id)).await.expect("the profile item");
    assert_eq!(profile.get("password_hash"), None, "the password hash lives with the login, not the profile");
}

#[tokio::test]
async fn credentials_are_read_by_email_in_one_call_and_an_unknown_email_is_none() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let added = env.add_account(&email, PASSWORD, COMPANY).await;

    let before = env.calls.now();
    let found = env.store.credentials(&email).await.unwrap().expect("the e-mail logs in");
    assert_eq!(env.calls.since(before).calls, 1, "one GetItem of the login item");
    assert_eq!(found.account, added.id, "the login points at the account");
    assert_eq!(found.email, email);
    assert!(hasher().verify(PASSWORD, found.password_hash.as_deref().unwrap()));
    assert_eq!(found.password_epoch, 0);
    // The e-mail as typed: trimmed and case-folded by Email::parse, the same login.
    let typed = Email::parse(&format!("  {}  ", email.as_str().to_uppercase())).unwrap();
    assert_eq!(env.store.credentials(&typed).await.unwrap(), Some(found));
    assert_eq!(env.store.credentials(&env.email("nobody")).await.unwrap(), None);
}

// ------------------------------------------------------------------ login attempts

fn from(ip: &str) -> LoginClient {
    LoginClient::Address(ip.into())
}

async fn reserve(env: &TestEnv, email: &Email, client: &LoginClient, at: DateTime<Utc>) -> AttemptReservation {
    env.store.reserve_login_attempt(email, client, at).await.unwrap()
}

/// A device `owner`'s e-mail knows from now on, made as a successful login from
/// `address` makes it; the device as a login client.
async fn known_device(env: &TestEnv, owner: &Account, address: &str, now: DateTime<Utc>) -> LoginClient {
    let device = KnownDevice {
        digest: issue_token().unwrap().digest,
        account: owner.id.clone(),
        expires_at: whole_seconds(now + Duration::days(DEVICE_DAYS)),
    };
    let session = unsaved_session(&owner.id, now + Duration::hours(12));
    env.store.login_succeeded(&owner.email, &session, &device, Some(address)).await.unwrap();
    LoginClient::Device(device.digest)
}

#[tokio::test]
async fn login_facts_are_one_read_and_the_same_shape_for_an_unknown_email() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let added = env.add_account(&email, PASSWORD, COMPANY).await;
    let now = Utc::now();
    let before = env.calls.now();
    let facts = env.store.login_facts(&email, now).await.unwrap();
    assert_eq!(env.calls.since(before).calls, 1, "one BatchGetItem");
    let credentials = facts.credentials.expect("the login's credentials");
    assert_eq!((&credentials.account, facts.failures_this_hour), (&added.id, 0));
    assert!(hasher().verify(PASSWORD, credentials.password_hash.as_deref().unwrap()), "with the hash to check");
    assert_eq!(facts.account, Some(added.clone()), "and the account as the answer shows it");

    let nobody = env.email("nobody");
    let before = env.calls.now();
    let facts = env.store.login_facts(&nobody, now).await.unwrap();
    assert_eq!(env.calls.since(before).calls, 1, "the same one read");
    assert_eq!(facts, LoginFacts { credentials: None, account: None, failures_this_hour: 0 });

    // A login item written before it kept the account's copies still logs in.
    uncounted(&env)
        .update_item()
        .table_name(env.store.table())
        .set_key(Some(keys::login_item(&email).item()))
        .update_expression("REMOVE #name, company")
        .expression_attribute_names("#name", "name")
        .send()
        .await
        .unwrap();
    let facts = env.store.login_facts(&email, now).await.unwrap();
    assert_eq!((facts.credentials.map(|c| c.account), facts.account), (Some(added.id), None));
}

#[tokio::test]
async fn five_attempts_per_client_then_that_client_only_is_locked_for_fifteen_minutes() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let ana = env.add_account(&email, PASSWORD, COMPANY).await;
    let (attacker, owner) = (from("198.51.100.7"), from("203.0.113.10"));
    let t0 = Utc::now();
    for n in 1..=MAX_FAILED_LOGINS {
        let before = env.calls.now();
        assert_eq!(reserve(&env, &email, &attacker, t0).await, AttemptReservation::Granted, "attempt {n}");
        assert_eq!(env.calls.since(before).calls, 1, "one UpdateItem per attempt");
    }
    let until = t0 + Duration::minutes(LOCK_MINUTES);
    for later in [Duration::seconds(1), Duration::minutes(14)] {
        assert_eq!(reserve(&env, &email, &attacker, t0 + later).await, AttemptReservation::Locked(until), "{later}");
    }
    assert_eq!(reserve(&env, &email, &owner, t0).await, AttemptReservation::Granted, "another address is not locked");
    let device = known_device(&env, &ana, "192.0.2.1", t0).await;
    assert_eq!(reserve(&env, &email, &device, t0).await, AttemptReservation::Granted, "nor a known device");
    assert_eq!(
        reserve(&env, &email, &attacker, until + Duration::seconds(1)).await,
        AttemptReservation::Granted,
        "after the lock the count starts again"
    );
    let counted = env.raw(&keys::login_client(&email, &attacker)).await.unwrap();
    assert_eq!(counted["failures"], AttributeValue::N("1".into()));
}

#[tokio::test]
async fn an_unknown_email_is_counted_and_locked_exactly_alike_and_gets_no_login() {
    let env = TestEnv::new().await;
    let email = env.email("nobody");
    let attacker = from("198.51.100.7");
    let now = Utc::now();
    for _ in 0..MAX_FAILED_LOGINS {
        assert_eq!(reserve(&env, &email, &attacker, now).await, AttemptReservation::Granted);
    }
    assert!(matches!(reserve(&env, &email, &attacker, now).await, AttemptReservation::Locked(_)));
    assert_eq!(env.store.count_failed_login(&email, now).await.unwrap(), 1);
    assert!(env.raw(&keys::login_item(&email)).await.is_none(), "no login item appeared");
}

#[tokio::test]
async fn parallel_attempts_cannot_get_past_the_limit() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    env.add_account(&email, PASSWORD, COMPANY).await;
    let now = Utc::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (store, email) = (env.store.clone(), email.clone());
        tasks.spawn(async move { store.reserve_login_attempt(&email, &from("198.51.100.7"), now).await });
    }
    let results: Vec<_> = tasks.join_all().await.into_iter().map(|r| r.unwrap()).collect();
    let granted = results.iter().filter(|r| **r == AttemptReservation::Granted).count();
    let locked = results.iter().filter(|r| matches!(r, AttemptReservation::Locked(_))).count();
    assert_eq!((granted, locked), (MAX_FAILED_LOGINS as usize, 12 - MAX_FAILED_LOGINS as usize), "{results:?}");
}

#[tokio::test]
async fn failures_are_counted_per_clock_hour_from_every_client() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    env.add_account(&email, PASSWORD, COMPANY).await;
    let hour: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
    for n in 1..=3 {
        let before = env.calls.now();
        assert_eq!(env.store.count_failed_login(&email, hour + Duration::minutes(n * 10)).await.unwrap(), n as u32);
        assert_eq!(env.calls.since(before).calls, 1, "one UpdateItem");
    }
    let facts = env.store.login_facts(&email, hour + Duration::minutes(59)).await.unwrap();
    assert_eq!(facts.failures_this_hour, 3);
    let next = env.store.login_facts(&email, hour + Duration::minutes(61)).await.unwrap();
    assert_eq!(next.failures_this_hour, 0, "a new hour starts at zero");
}

#[tokio::test]
async fn a_success_is_one_write_of_the_session_the_clients_count_and_the_device_known_to_its_email_only() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let ana = env.add_account(&email, PASSWORD, COMPANY).await;
    let home = "203.0.113.10";
    let now = Utc::now();
    for _ in 1..MAX_FAILED_LOGINS {
        reserve(&env, &email, &from(home), now).await;
    }
    let device = KnownDevice {
        digest: issue_token().unwrap().digest,
        account: ana.id.clone(),
        expires_at: whole_seconds(now + Duration::days(DEVICE_DAYS)),
    };
    let session = unsaved_session(&ana.id, now + Duration::hours(12));
    let before = env.calls.now();
    env.store.login_succeeded(&email, &session, &device, Some(home)).await.unwrap();
    assert_eq!(env.calls.since(before).calls, 1, "one TransactWriteItems");
    assert_eq!(env.live(&ana.id, &session.digest, now).await, Some(session), "the session is stored");
    for n in 1..=MAX_FAILED_LOGINS {
        assert_eq!(reserve(&env, &email, &from(home), now).await, AttemptReservation::Granted, "fresh attempt {n}");
    }
    let known = LoginClient::Device(device.digest.clone());
    assert_eq!(reserve(&env, &email, &known, now).await, AttemptReservation::Granted, "known to its e-mail");
    let luis = env.email("luis");
    assert_eq!(reserve(&env, &luis, &known, now).await, AttemptReservation::UnknownDevice, "not to another");
    assert!(raw_sort_keys(&env, &keys::login_client(&luis, &known).pk).await.is_empty(), "nothing written there");
    let later = device.expires_at + Duration::seconds(1);
    assert_eq!(reserve(&env, &email, &known, later).await, AttemptReservation::UnknownDevice, "not once expired");
}

#[tokio::test]
async fn a_made_up_device_gets_no_count_and_writes_nothing() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    env.add_account(&email, PASSWORD, COMPANY).await;
    let made_up = LoginClient::Device(TokenDigest::of("a token nobody was given"));
    let before = env.calls.now();
    assert_eq!(reserve(&env, &email, &made_up, Utc::now()).await, AttemptReservation::UnknownDevice);
    assert_eq!(env.calls.since(before).calls, 1, "one conditional UpdateItem");
    assert!(env.raw(&keys::login_client(&email, &made_up)).await.is_none(), "no item for it");
}

#[tokio::test]
async fn a_known_device_has_its_own_five_and_a_success_from_it_restarts_them_and_renews_it() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let ana = env.add_account(&email, PASSWORD, COMPANY).await;
    let t0 = Utc::now();
    let device = known_device(&env, &ana, "203.0.113.10", t0).await;
    for n in 1..=MAX_FAILED_LOGINS {
        assert_eq!(reserve(&env, &email, &device, t0).await, AttemptReservation::Granted, "attempt {n}");
    }
    let until = t0 + Duration::minutes(LOCK_MINUTES);
    assert_eq!(reserve(&env, &email, &device, t0).await, AttemptReservation::Locked(until));
    let key = keys::login_client(&email, &device);
    let expiry = |item: &Item| item["expires_at"].as_n().unwrap().parse::<i64>().unwrap();
    let first_expiry = expiry(&env.raw(&key).await.unwrap());
    assert_eq!(first_expiry, (t0 + Duration::days(DEVICE_DAYS)).timestamp(), "attempts leave its expiry alone");

    // Fifteen minutes on, its count starts again; a success from it then renews it.
    let t1 = until + Duration::seconds(1);
    assert_eq!(reserve(&env, &email, &device, t1).await, AttemptReservation::Granted);
    let LoginClient::Device(digest) = &device else { unreachable!() };
    let renewed = KnownDevice {
        digest: digest.clone(),
        account: ana.id.clone(),
        expires_at: whole_seconds(t1 + Duration::days(DEVICE_DAYS)),
    };
    let session = unsaved_session(&ana.id, t1 + Duration::hours(12));
    let items_before = raw_sort_keys(&env, &key.pk).await;
    env.store.login_succeeded(&email, &session, &renewed, None).await.unwrap();
    let item = env.raw(&key).await.unwrap();
    assert_eq!(expiry(&item), renewed.expires_at.timestamp(), "known for a year from this login");
    assert_eq!(item["failures"], AttributeValue::N("0".into()));
    assert_eq!(raw_sort_keys(&env, &key.pk).await, items_before, "no other count written");
}

#[tokio::test]
async fn a_success_whose_password_changed_meanwhile_writes_nothing() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let ana = env.add_account(&email, PASSWORD, COMPANY).await;
    let now = Utc::now();
    reserve(&env, &email, &from("203.0.113.10"), now).await;
    let token = reset_token_for(&env, &ana, now + Duration::minutes(30)).await;
    env.store.complete_reset(&token, &hasher().hash("Nueva-clave-2026").unwrap(), now).await.unwrap();
    let device = KnownDevice {
        digest: issue_token().unwrap().digest,
        account: ana.id.clone(),
        expires_at: whole_seconds(now + Duration::days(DEVICE_DAYS)),
    };
    // Made with the epoch read before the reset.
    let session = unsaved_session(&ana.id, now + Duration::hours(12));
    let refused = env.store.login_succeeded(&email, &session, &device, Some("203.0.113.10")).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    assert!(env.raw(&keys::session(&session.digest)).await.is_none(), "no session");
    let locks = raw_sort_keys(&env, &keys::login_client(&email, &from("x")).pk).await;
    assert!(locks.is_empty(), "no count, no device: {locks:?}");
}

// ------------------------------------------------------------------ sessions

#[tokio::test]
async fn a_session_is_created_in_one_call_and_found_with_its_account_in_one_call() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await.id;
    let now = Utc::now();
    let before = env.calls.now();
    let session = new_session(&env, &ana, now + Duration::hours(12)).await;
    assert_eq!(env.calls.since(before).calls, 1, "session and pointer in one TransactWriteItems");

    let before = env.calls.now();
    let found = env.live(&session.account, &session.digest, now).await;
    assert_eq!(env.calls.since(before).calls, 1, "session check is one BatchGetItem (session and account)");
    assert_eq!(found, Some(session.clone()));
    assert!(env.raw(&keys::session(&session.digest)).await.is_some());
    let pointer_key = keys::session_pointer(&ana, &session.id);
    let pointer = env.raw(&pointer_key).await.expect("the account's pointer to the session");
    assert_eq!(text(&pointer, "digest"), Some(session.digest.as_str()), "the pointer names the session");
    assert!(
        !pointer_key.pk.contains(session.digest.as_str()) && !pointer_key.sk.contains(session.digest.as_str()),
        "the pointer's key holds the session id, not the digest: {pointer_key:?}"
    );
    let unknown = TokenDigest::of("a token nobody was given");
    assert_eq!(env.live(&session.account, &unknown, now).await, None);
}

#[tokio::test]
async fn an_expired_session_is_none_although_its_item_is_still_there() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await.id;
    let now = Utc::now();
    let session = new_session(&env, &ana, now + Duration::hours(1)).await;
    let later = session.expires_at + Duration::seconds(1);
    assert_eq!(env.live(&session.account, &session.digest, later).await, None);
    let item = env.raw(&keys::session(&session.digest)).await;
    assert!(item.is_some(), "the item is still in the table (TTL deletes lazily)");

    let expired = new_session(&env, &ana, now - Duration::minutes(1)).await;
    assert_eq!(env.live(&expired.account, &expired.digest, now).await, None);
}

#[tokio::test]
async fn revoking_a_session_removes_it_and_its_account_pointer_only() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await.id;
    let now = Utc::now();
    let session = new_session(&env, &ana, now + Duration::hours(1)).await;
    let other = new_session(&env, &ana, now + Duration::hours(1)).await;

    env.store.revoke_session(&session).await.unwrap();
    assert_eq!(env.live(&session.account, &session.digest, now).await, None);
    assert!(env.raw(&keys::session(&session.digest)).await.is_none());
    assert!(env.raw(&keys::session_pointer(&ana, &session.id)).await.is_none());
    assert_eq!(env.live(&other.account, &other.digest, now).await, Some(other.clone()), "other sessions stay");
    assert!(env.raw(&keys::session_pointer(&ana, &other.id)).await.is_some(), "with their pointers");
}

// ------------------------------------------------------------------ password resets

#[tokio::test]
async fn three_reset_mails_in_any_hour_then_refused() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    env.add_account(&email, PASSWORD, COMPANY).await;
    let now = Utc::now();
    for n in [0, 20, 40] {
        let before = env.calls.now();
        assert!(env.store.allow_reset_mail(&email, now + Duration::minutes(n)).await.unwrap(), "mail at minute {n}");
        assert!(env.calls.since(before).calls <= 3, "at most three UpdateItems");
    }
    for n in [41, 59] {
        assert!(
            !env.store.allow_reset_mail(&email, now + Duration::minutes(n)).await.unwrap(),
            "refused at minute {n}"
        );
    }
    // A sliding hour: at minute 61 the first mail is over an hour old, the others not.
    assert!(env.store.allow_reset_mail(&email, now + Duration::minutes(61)).await.unwrap());
    assert!(!env.store.allow_reset_mail(&email, now + Duration::minutes(62)).await.unwrap());
    assert!(env.store.allow_reset_mail(&email, now + Duration::minutes(81)).await.unwrap());
}

#[tokio::test]
async fn no_burst_across_an_hours_edge() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    env.add_account(&email, PASSWORD, COMPANY).await;
    let now = Utc::now();
    for _ in 0..3 {
        assert!(env.store.allow_reset_mail(&email, now + Duration::minutes(59)).await.unwrap());
    }
    assert!(!env.store.allow_reset_mail(&email, now + Duration::minutes(61)).await.unwrap(), "not 3 more at once");
}

#[tokio::test]
async fn reset_mails_for_an_unknown_account_are_refused_and_create_nothing() {
    let env = TestEnv::new().await;
    let email = env.email("nobody");
    assert!(!env.store.allow_reset_mail(&email, Utc::now()).await.unwrap());
    assert!(env.raw(&keys::login_item(&email)).await.is_none());
}

#[tokio::test]
async fn a_reset_token_is_stored_by_digest_and_read_back() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let issued = issue_token().unwrap();
    let token = ResetToken {
        digest: issued.digest.clone(),
        account: new_account_id(),
        email: email.clone(),
        issued_at: whole_seconds(Utc::now()),
        expires_at: whole_seconds(Utc::now() + Duration::minutes(30)),
        used: false,
    };
    let before = env.calls.now();
    env.store.put_reset_token(&token).await.unwrap();
    assert_eq!(env.calls.since(before).calls, 1, "one PutItem");
    assert_eq!(env.store.reset_token(&issued.digest).await.unwrap(), Some(token));
    assert!(env.raw(&keys::reset_token(&issued.digest)).await.is_some(), "keyed by the digest");
    assert!(
        env.raw(&keys::reset_token(&TokenDigest::from_stored(issued.secret.clone()))).await.is_none(),
        "the secret itself is never a key"
    );
    assert_eq!(env.store.reset_token(&TokenDigest::of("unknown")).await.unwrap(), None);
}

/// An account whose login is locked for one client address, with failures counted.
async fn locked_account(env: &TestEnv, email: &Email) -> Account {
    let account = env.add_account(email, PASSWORD, COMPANY).await;
    let now = Utc::now();
    for _ in 0..MAX_FAILED_LOGINS {
        reserve(env, email, &from("198.51.100.7"), now).await;
        env.store.count_failed_login(email, now).await.unwrap();
    }
    let locked = reserve(env, email, &from("198.51.100.7"), now).await;
    assert!(matches!(locked, AttemptReservation::Locked(_)), "set-up: the login is locked for that client");
    account
}

/// A reset token for `owner`'s login, mailed 30 minutes before `expires_at`.
async fn reset_token_for(env: &TestEnv, owner: &Account, expires_at: DateTime<Utc>) -> ResetToken {
    let token = ResetToken {
        digest: issue_token().unwrap().digest,
        account: owner.id.clone(),
        email: owner.email.clone(),
        issued_at: whole_seconds(expires_at - Duration::minutes(30)),
        expires_at: whole_seconds(expires_at),
        used: false,
    };
    env.store.put_reset_token(&token).await.unwrap();
    token
}

#[tokio::test]
async fn complete_reset_spends_the_token_replaces_the_hash_clears_the_lock_and_revokes_every_session() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let ana = locked_account(&env, &email).await;
    let luis = env.add_account(&env.email("luis"), PASSWORD, COMPANY).await.id;
    let now = Utc::now();
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(new_session(&env, &ana.id, now + Duration::hours(12)).await);
    }
    let luis_session = new_session(&env, &luis, now + Duration::hours(12)).await;
    let device = known_device(&env, &ana, "203.0.113.10", now).await;
    for _ in 0..MAX_FAILED_LOGINS {
        reserve(&env, &email, &device, now).await;
    }
    let token = reset_token_for(&env, &ana, now + Duration::minutes(30)).await;
    let new_hash = hasher().hash("Nueva-clave-2026").unwrap();

    let before = env.calls.now();
    env.store.complete_reset(&token, &new_hash, now).await.unwrap();
    assert_eq!(
        env.calls.since(before).calls,
        3,
        "Query session pointers, Query the e-mail's lockout counts, then one TransactWriteItems"
    );

    let spent = env.store.reset_token(&token.digest).await.unwrap().unwrap();
    assert!(spent.used, "the token is spent");
    let login = credentials(&env, &email).await;
    assert_eq!(login.password_hash.as_deref(), Some(new_hash.as_str()));
    assert!(hasher().verify("Nueva-clave-2026", login.password_hash.as_deref().unwrap()));
    assert!(!hasher().verify(PASSWORD, login.password_hash.as_deref().unwrap()));
    assert_eq!(login.password_epoch, 1, "the password epoch moved on");
    let device_key = keys::login_client(&email, &device);
    let locks = raw_sort_keys(&env, &device_key.pk).await;
    assert_eq!(locks, vec![device_key.sk.clone()], "the counts are cleared, the known device kept");
    for n in 1..=MAX_FAILED_LOGINS {
        assert_eq!(reserve(&env, &email, &device, now).await, AttemptReservation::Granted, "device attempt {n}");
    }
    for s in &sessions {
        assert_eq!(env.live(&s.account, &s.digest, now).await, None, "every session is revoked");
        assert!(env.raw(&keys::session_pointer(&ana.id, &s.id)).await.is_none(), "and its pointer");
    }
    let left = raw_sort_keys(&env, &keys::profile(&ana.id).pk).await;
    assert_eq!(left, vec![keys::profile(&ana.id).sk], "no session pointer left in the account: {left:?}");
    assert_eq!(
        env.live(&luis_session.account, &luis_session.digest, now).await,
        Some(luis_session),
        "other accounts untouched"
    );
    assert_eq!(reserve(&env, &email, &from("198.51.100.7"), now).await, AttemptReservation::Granted);

    let other_hash = hasher().hash("Otra-clave-2026").unwrap();
    let again = env.store.complete_reset(&token, &other_hash, now).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "a spent token cannot be used again: {again:?}");
    assert_eq!(
        credentials(&env, &email).await.password_hash.as_deref(),
        Some(new_hash.as_str()),
        "the second attempt changed nothing"
    );
}

#[tokio::test]
async fn a_session_lives_only_for_the_password_epoch_it_was_made_with() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let ana = env.add_account(&email, PASSWORD, COMPANY).await;
    let now = Utc::now();
    let before_reset = new_session(&env, &ana.id, now + Duration::hours(12)).await;
    let kept = env.raw(&keys::session(&before_reset.digest)).await.expect("the session item");
    let token = reset_token_for(&env, &ana, now + Duration::minutes(30)).await;
    env.store.complete_reset(&token, &hasher().hash("Nueva-clave-2026").unwrap(), now).await.unwrap();

    // A session item a reset did not delete (as a race would leave it) opens nothing.
    uncounted(&env).put_item().table_name(env.store.table()).set_item(Some(kept)).send().await.unwrap();
    assert!(env.raw(&keys::session(&before_reset.digest)).await.is_some(), "the item is back");
    assert_eq!(env.live(&ana.id, &before_reset.digest, now).await, None, "dead by its epoch");

    // A login that read the old password before the reset cannot create its session after.
    let mut late = before_reset.clone();
    late.digest = issue_token().unwrap().digest;
    late.id = random_id().unwrap();
    let refused = env.store.create_session(&late).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    assert!(env.raw(&keys::session(&late.digest)).await.is_none(), "nothing written");
    // One made with the new epoch lives.
    late.password_epoch = 1;
    env.store.create_session(&late).await.unwrap();
    assert!(env.live(&ana.id, &late.digest, now).await.is_some());
}

#[tokio::test]
async fn complete_reset_revokes_sessions_beyond_one_transaction() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let ana = env.add_account(&email, PASSWORD, COMPANY).await;
    let now = Utc::now();
    let mut sessions = Vec::new();
    for _ in 0..60 {
        sessions.push(new_session(&env, &ana.id, now + Duration::hours(12)).await);
    }
    let token = reset_token_for(&env, &ana, now + Duration::minutes(30)).await;
    env.store.complete_reset(&token, &hasher().hash("Nueva-clave-2026").unwrap(), now).await.unwrap();
    for s in &sessions {
        assert_eq!(env.live(&s.account, &s.digest, now).await, None);
    }
    let left = raw_sort_keys(&env, &keys::profile(&ana.id).pk).await;
    assert_eq!(left, vec![keys::profile(&ana.id).sk], "only the profile is left");
}

#[tokio::test]
async fn an_expired_reset_token_cannot_complete_and_changes_nothing() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let ana = env.add_account(&email, PASSWORD, COMPANY).await;
    let now = Utc::now();
    let session = new_session(&env, &ana.id, now + Duration::hours(12)).await;
    let token = reset_token_for(&env, &ana, now - Duration::minutes(1)).await;
    let result = env.store.complete_reset(&token, &hasher().hash("Nueva-clave-2026").unwrap(), now).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert!(
        hasher().verify(PASSWORD, credentials(&env, &email).await.password_hash.as_deref().unwrap()),
        "the password is unchanged"
    );
    assert_eq!(env.live(&session.account, &session.digest, now).await, Some(session));
    assert!(!env.store.reset_token(&token.digest).await.unwrap().unwrap().used);
}

#[tokio::test]
async fn a_reset_token_is_dead_once_its_email_no_longer_logs_in_to_its_account() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let ana = env.add_account(&email, PASSWORD, COMPANY).await;
    let now = Utc::now();
    let session = new_session(&env, &ana.id, now + Duration::hours(12)).await;
    let token = reset_token_for(&env, &ana, now + Duration::minutes(30)).await;
    let new_hash = hasher().hash("Nueva-clave-2026").unwrap();

    // The login was removed after the link was mailed: the reset must not bring it back.
    raw_delete(&env, &keys::login_item(&email)).await;
    let result = env.store.complete_reset(&token, &new_hash, now).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert!(env.raw(&keys::login_item(&email)).await.is_none(), "no login item written");

    // Then the e-mail was given to another account.
    let bea = env.add_account(&email, "Otra-clave-2026", "Distribuidora Pérez SC").await;
    assert_ne!(bea.id, ana.id);
    let result = env.store.complete_reset(&token, &new_hash, now).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    let login = credentials(&env, &email).await;
    assert_eq!(login.account, bea.id);
    assert!(
        hasher().verify("Otra-clave-2026", login.password_hash.as_deref().unwrap()),
        "the other account's password is unchanged"
    );
    assert!(!env.store.reset_token(&token.digest).await.unwrap().unwrap().used, "the token is not spent");
    assert_eq!(env.live(&session.account, &session.digest, now).await, Some(session), "nothing was revoked");
}

// ------------------------------------------------------------------ subscriptions

#[tokio::test]
async fn subscriptions_lists_only_the_accounts_serials_in_one_query() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await;
    let luis = env.add_account(&env.email("luis"), PASSWORD, "Distribuidora Pérez SC").await;
    let a1 = env.add_serial(&ana, "SAE", "7.0", Plan::Subscription, Some(13)).await;
    let a2 = env.add_serial(&ana, "COI", "10.0", Plan::License, None).await;
    // Every optional attribute set, to check each one round-trips.
    let a3 = Subscription {
        serial: Serial::generate().unwrap(),
        account: ana.id.clone(),
        system: system("NOI"),
        version: Version::parse("11.0").unwrap(),
        users: 3,
        plan: Plan::Subscription,
        billing_period: Some(BillingPeriod::Annual),
        activated_on: Some(env.days_from_today(-165)),
        next_payment_on: Some(env.days_from_today(200)),
        valid_until: Some(env.days_from_today(200)),
        upgraded_from: Some(Serial::generate().unwrap()),
        superseded_by: Some(Serial::generate().unwrap()),
    };
    env.store.add_subscription(&a3).await.unwrap();
    let l1 = env.add_serial(&luis, "SAE", "7.0", Plan::Subscription, Some(90)).await;
    let l2 = env.add_serial(&luis, "BANCO", "5.0", Plan::Subscription, Some(-20)).await;
    // Other items in Ana's partition must not be taken for serials.
    env.session_for(&ana).await;

    let before = env.calls.now();
    let list = env.store.subscriptions(&ana.id).await.unwrap();
    assert_eq!(env.calls.since(before).calls, 1, "one Query");
    assert_eq!(sorted(list), sorted(vec![a1.clone(), a2, a3.clone()]));
    assert_eq!(sorted(env.store.subscriptions(&luis.id).await.unwrap()), sorted(vec![l1.clone(), l2]));
    assert_eq!(env.store.subscriptions(&new_account_id()).await.unwrap(), vec![]);

    let before = env.calls.now();
    assert_eq!(env.store.subscription(&ana.id, &a3.serial).await.unwrap(), Some(a3));
    assert_eq!(env.calls.since(before).calls, 1, "one GetItem");
    assert_eq!(env.store.subscription(&ana.id, &a1.serial).await.unwrap(), Some(a1));
    assert_eq!(
        env.store.subscription(&ana.id, &l1.serial).await.unwrap(),
        None,
        "another account's serial is not found"
    );
}

// ------------------------------------------------------------------ catalog

#[tokio::test]
async fn the_catalog_is_read_in_one_query_and_put_product_replaces() {
    let env = TestEnv::new().await;
    assert_eq!(env.store.products().await.unwrap(), vec![]);
    env.add_products().await;
    let before = env.calls.now();
    let products = env.store.products().await.unwrap();
    assert_eq!(env.calls.since(before).calls, 1, "one Query of the catalog");
    let mut systems: Vec<_> = products.iter().map(|p| p.system.as_str()).collect();
    systems.sort();
    assert_eq!(systems, ["BANCO", "COI", "NOI", "SAE"]);
    let sae_stored = products.iter().find(|p| p.system == system("SAE")).unwrap();
    assert_eq!(sae_stored.name, "Aspel SAE");
    assert_eq!(sae_stored.latest_version.as_str(), "8.0");
    assert_eq!(sae_stored.terms.version, "2022-10");
    assert!(env.raw(&keys::product(&system("SAE"))).await.is_some(), "one item per product");

    let sae9 = Product {
        system: system("SAE"),
        name: "Aspel SAE".into(),
        latest_version: Version::parse("9.0").unwrap(),
        terms: Terms { version: "2023-05".into(), text: "Términos nuevos".into() },
    };
    env.store.put_product(&sae9).await.unwrap();
    let products = env.store.products().await.unwrap();
    assert_eq!(products.len(), 4, "replaced, not added");
    let stored = products.iter().find(|p| p.system == system("SAE")).unwrap();
    assert_eq!(stored, &sae9);
    assert_eq!(stored.latest_version.as_str(), "9.0");
}

// ------------------------------------------------------------------ upgrades

#[tokio::test]
async fn commit_upgrade_writes_every_item_in_one_call() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let ana = env.add_account(&email, PASSWORD, COMPANY).await;
    let old = sae7(&ana.id, env.days_from_today(13));
    env.store.add_subscription(&old).await.unwrap();
    let up = upgrade_of(&env, &old, Serial::generate().unwrap());
    let new = up.new.serial.clone();
    let accepted_at = Utc::now();
    let terms = terms_record(accepted_at);
    let mail = mail_for(&up, &email, accepted_at);

    let before = env.calls.now();
    env.store.commit_upgrade(&up, COMPANY, &terms, &mail, &upgrade_event(&up)).await.unwrap();
    assert_eq!(env.calls.since(before).calls, 1, "one TransactWriteItems");

    let item = env.raw(&keys::serial(&ana.id, &new)).await.expect("the new serial exists");
    assert_eq!(text(&item, "version"), Some("8.0"));
    assert_eq!(text(&item, "upgraded_from"), Some(old.serial.as_str()));
    assert_eq!(text(&item, "billing_period"), Some("monthly"), "same billing period");
    assert_eq!(text(&item, "next_payment_on"), Some(env.days_from_today(13).to_string().as_str()));
    assert_eq!(item.get("activated_on"), None, "not activated until first validated");
    assert_eq!(env.store.subscription(&ana.id, &new).await.unwrap(), Some(up.new.clone()));

    let claim = env.raw(&keys::serial_claim(&new)).await.expect("the new serial is claimed");
    assert_eq!(text(&claim, "account_id"), Some(ana.id.as_str()));

    let previous = env.raw(&keys::serial(&ana.id, &old.serial)).await.unwrap();
    assert_eq!(text(&previous, "superseded_by"), Some(new.as_str()));
    assert_eq!(text(&previous, "valid_until"), Some(env.days_from_today(13).to_string().as_str()));
    assert_eq!(env.store.subscription(&ana.id, &old.serial).await.unwrap(), Some(up.previous.clone()));

    let record = env.raw(&keys::terms(&ana.id, &old.serial)).await.expect("terms record");
    assert_eq!(text(&record, "terms_version"), Some("2022-10"));
    assert_eq!(text(&record, "source_ip"), Some("203.0.113.10"));
    assert_eq!(text(&record, "user_agent"), Some(terms.user_agent.as_str()));
    assert_eq!(text(&record, "new_serial"), Some(new.as_str()));
    let at: DateTime<Utc> = text(&record, "accepted_at").unwrap().parse().unwrap();
    assert_eq!(at, accepted_at);

    let outbox = env.raw(&keys::mail(&mail)).await.expect("the mail is in the outbox");
    assert_eq!(text(&outbox, "id"), Some(new.as_str()), "the mail is named by the new serial");
    assert_eq!(text(&outbox, "to"), Some(email.as_str()));
    assert_eq!(text(&outbox, "subject"), Some(mail.mail.subject.as_str()));
    assert!(text(&outbox, "text").unwrap().contains(new.as_str()));
    assert!(text(&outbox, "html").unwrap().contains(new.as_str()));
    assert_eq!(env.pending_mails(Utc::now(), 10).await, vec![mail.clone()]);
    // Leased to the committing request (it sends the mail next): no one else takes it
    // until the lease is over.
    assert!(env.store.lease(&mail, accepted_at, accepted_at + Duration::minutes(1)).await.unwrap().is_none());
    let after = accepted_at + shared::outbox::LEASE + Duration::seconds(1);
    assert!(env.store.lease(&mail, after, after + Duration::minutes(1)).await.unwrap().is_some(), "then the retry may");
}

#[tokio::test]
async fn a_second_upgrade_of_the_same_serial_is_already_upgraded_and_writes_nothing() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let ana = env.add_account(&email, PASSWORD, COMPANY).await;
    let old = sae7(&ana.id, env.days_from_today(13));
    env.store.add_subscription(&old).await.unwrap();
    let first = upgrade_of(&env, &old, Serial::generate().unwrap());
    commit(&env.store, &first, &email).await.unwrap();

    // Decided on the same, not yet superseded, copy of the old serial: a concurrent request.
    let second = upgrade_of(&env, &old, Serial::generate().unwrap());
    let second_mail = mail_for(&second, &email, Utc::now());
    let before = env.calls.now();
    let result = env
        .store
        .commit_upgrade(&second, COMPANY, &terms_record(Utc::now()), &second_mail, &upgrade_event(&second))
        .await;
    assert_eq!(env.calls.since(before).calls, 1);
    assert!(matches!(result, Err(UpgradeCommitError::AlreadyUpgraded)), "{result:?}");
    let again = commit(&env.store, &first, &email).await;
    assert!(matches!(again, Err(UpgradeCommitError::AlreadyUpgraded)), "the same upgrade twice: {again:?}");

    let lost = &second.new.serial;
    assert!(env.raw(&keys::serial(&ana.id, lost)).await.is_none(), "no second new serial");
    assert!(env.raw(&keys::serial_claim(lost)).await.is_none(), "no claim of it");
    assert!(env.raw(&keys::mail(&second_mail)).await.is_none(), "no second mail");
    let previous = env.raw(&keys::serial(&ana.id, &old.serial)).await.unwrap();
    assert_eq!(text(&previous, "superseded_by"), Some(first.new.serial.as_str()));
    let record = env.raw(&keys::terms(&ana.id, &old.serial)).await.unwrap();
    assert_eq!(text(&record, "new_serial"), Some(first.new.serial.as_str()));
    assert_eq!(env.store.subscriptions(&ana.id).await.unwrap().len(), 2);
    let mails = env.pending_mails(Utc::now(), 10).await;
    assert_eq!(mails.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), [first.new.serial.as_str()], "one mail");
}

#[tokio::test]
async fn an_upgrade_to_a_taken_serial_number_is_serial_taken_and_writes_nothing() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let ana = env.add_account(&email, PASSWORD, COMPANY).await;
    let luis = env.add_account(&env.email("luis"), PASSWORD, "Distribuidora Pérez SC").await;
    let taken = env.add_serial(&luis, "SAE", "7.0", Plan::Subscription, Some(90)).await;
    let old = sae7(&ana.id, env.days_from_today(13));
    env.store.add_subscription(&old).await.unwrap();

    let up = upgrade_of(&env, &old, taken.serial.clone());
    let mail = mail_for(&up, &email, Utc::now());
    let result = env.store.commit_upgrade(&up, COMPANY, &terms_record(Utc::now()), &mail, &upgrade_event(&up)).await;
    assert!(matches!(result, Err(UpgradeCommitError::SerialTaken)), "{result:?}");

    assert_eq!(env.store.subscription(&ana.id, &old.serial).await.unwrap(), Some(old.clone()), "old serial untouched");
    assert!(env.raw(&keys::serial(&ana.id, &taken.serial)).await.is_none());
    assert!(env.raw(&keys::terms(&ana.id, &old.serial)).await.is_none(), "no terms record");
    assert!(env.raw(&keys::mail(&mail)).await.is_none(), "no mail");
    assert_eq!(env.pending_mails(Utc::now(), 10).await, vec![], "the outbox is empty");
    let claim = env.raw(&keys::serial_claim(&taken.serial)).await.unwrap();
    assert_eq!(text(&claim, "account_id"), Some(luis.id.as_str()), "the claim still names its owner");
    assert_eq!(env.store.subscription(&luis.id, &taken.serial).await.unwrap(), Some(taken));

    // Drawing another number then works: nothing was left behind.
    let retry = upgrade_of(&env, &old, Serial::generate().unwrap());
    commit(&env.store, &retry, &email).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_upgrades_of_one_serial_commit_exactly_one() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let ana = env.add_account(&email, PASSWORD, COMPANY).await;
    let old = sae7(&ana.id, env.days_from_today(13));
    env.store.add_subscription(&old).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (store, email) = (env.store.clone(), email.clone());
        let up = upgrade_of(&env, &old, Serial::generate().unwrap());
        tasks.spawn(async move {
            let result = commit(&store, &up, &email).await;
            (up.new.serial, result)
        });
    }
    let results = tasks.join_all().await;
    let winners: Vec<&Serial> = results.iter().filter(|(_, r)| r.is_ok()).map(|(s, _)| s).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (_, r) in results.iter().filter(|(_, r)| r.is_err()) {
        assert!(matches!(r, Err(UpgradeCommitError::AlreadyUpgraded)), "losers are told it was upgraded: {r:?}");
    }
    let previous = env.store.subscription(&ana.id, &old.serial).await.unwrap().unwrap();
    assert_eq!(previous.superseded_by.as_ref(), Some(winners[0]));
    assert_eq!(env.store.subscriptions(&ana.id).await.unwrap().len(), 2, "exactly one new serial");
    let mails = env.pending_mails(Utc::now(), 100).await;
    assert_eq!(mails.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), [winners[0].as_str()], "exactly one mail");
}

// ------------------------------------------------------------------ validation

#[tokio::test]
async fn a_serial_and_its_owner_are_found_by_serial_number_alone() {
    let env = TestEnv::new().await;
    let account = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await;
    let sub = env.add_serial(&account, "SAE", "7.0", Plan::Subscription, Some(13)).await;

    let before = env.calls.now();
    let found = env.store.serial_with_account(&sub.serial).await.unwrap();
    assert_eq!(env.calls.since(before).calls, 2, "GetItem claim (with the serial's facts), then the profile");
    assert_eq!(found, Some((sub, account)));
    let before = env.calls.now();
    assert_eq!(env.store.serial_with_account(&Serial::generate().unwrap()).await.unwrap(), None);
    assert_eq!(env.calls.since(before).calls, 1, "an unknown serial costs only the claim lookup");
}

#[tokio::test]
async fn a_validation_reads_the_claim_alone_and_a_claim_of_the_older_shape_still_answers() {
    let env = TestEnv::new().await;
    let account = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await;
    let sub = env.add_serial(&account, "SAE", "7.0", Plan::Subscription, Some(13)).await;
    let facts = |s: &Subscription| ValidationFacts {
        subscription: s.clone(),
        company: COMPANY.into(),
        mismatches_this_hour: 0,
    };

    let before = env.calls.now();
    let found = env.store.validation_facts(&sub.serial, "192.0.2.1", Utc::now()).await.unwrap();
    let cost = env.calls.since(before);
    assert_eq!((cost.calls, cost.round_trips), (1, 1), "one BatchGetItem: the claim and the guesses");
    assert_eq!(found, Some(facts(&sub)));

    // A claim written before claims carried the facts: only its owner.
    let claim = keys::serial_claim(&sub.serial);
    let mut item = claim.item();
    item.insert("type".into(), AttributeValue::S("serial_claim".into()));
    item.insert("account_id".into(), AttributeValue::S(account.id.to_string()));
    env.store.client().put_item().table_name(env.store.table()).set_item(Some(item)).send().await.unwrap();
    let before = env.calls.now();
    let found = env.store.validation_facts(&sub.serial, "192.0.2.1", Utc::now()).await.unwrap();
    assert_eq!(env.calls.since(before).round_trips, 2, "the older shape costs one more read");
    assert_eq!(found, Some(facts(&sub)));
}

#[tokio::test]
async fn activation_sets_the_date_once() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await;
    let sub = sae7(&ana.id, env.days_from_today(13));
    env.store.add_subscription(&sub).await.unwrap();
    let today = env.today();

    let before = env.calls.now();
    assert!(env.store.activate(&sub, today, &activation_event(&sub, today)).await.unwrap(), "first activation");
    assert_eq!(env.calls.since(before).calls, 1, "one UpdateItem");
    assert!(
        !env.store
            .activate(&sub, env.days_from_today(1), &activation_event(&sub, env.days_from_today(1)))
            .await
            .unwrap(),
        "second activation"
    );
    let stored = env.store.subscription(&ana.id, &sub.serial).await.unwrap().unwrap();
    assert_eq!(stored.activated_on, Some(today), "the first date stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_activations_set_the_date_exactly_once() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await;
    let sub = sae7(&ana.id, env.days_from_today(13));
    env.store.add_subscription(&sub).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (store, sub, day) = (env.store.clone(), sub.clone(), env.days_from_today(-i));
        tasks.spawn(async move { (day, store.activate(&sub, day, &activation_event(&sub, day)).await.unwrap()) });
    }
    let results = tasks.join_all().await;
    let winners: Vec<NaiveDate> = results.iter().filter(|(_, won)| *won).map(|(d, _)| *d).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let stored = env.store.subscription(&ana.id, &sub.serial).await.unwrap().unwrap();
    assert_eq!(stored.activated_on, Some(winners[0]), "the winner's date is the one stored");
}

// ------------------------------------------------------------------ outbox

#[tokio::test]
async fn pending_mails_older_than_a_limit_come_oldest_first() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await;
    let now = Utc::now();
    let (_, m20) = upgraded(&env, &ana, now - Duration::minutes(20)).await;
    let (_, m30) = upgraded(&env, &ana, now - Duration::minutes(30)).await;
    let (_, m1) = upgraded(&env, &ana, now - Duration::minutes(1)).await;

    let mails = |page: OutboxPage<PendingMail>| -> (Vec<PendingMail>, bool) {
        (page.entries.into_iter().map(|e| e.unwrap().message).collect(), page.next.is_some())
    };
    let before = env.calls.now();
    let old = mails(env.store.outbox_page(now - Duration::minutes(5), None, 10).await.unwrap());
    assert_eq!(env.calls.since(before).calls, 1, "one Query of the outbox");
    assert_eq!(old, (vec![m30.clone(), m20.clone()], false), "older than 5 minutes, oldest first");
    // A page at a time: each one bounded, each one Query, going on where the last ended.
    let before = env.calls.now();
    let first = env.store.outbox_page(now - Duration::minutes(5), None, 1).await.unwrap();
    assert_eq!(env.calls.since(before).calls, 1, "a limit below what is pending is still one Query");
    let next = first.next.clone();
    assert_eq!(mails(first), (vec![m30.clone()], true));
    let second = env.store.outbox_page(now - Duration::minutes(5), next.as_ref(), 1).await.unwrap();
    let next = second.next.clone();
    assert_eq!(mails(second).0, vec![m20.clone()]);
    let third = env.store.outbox_page(now - Duration::minutes(5), next.as_ref(), 1).await.unwrap();
    assert_eq!(mails(third), (vec![], false), "m1 is younger than the cut-off");
    assert_eq!(env.pending_mails(now, 10).await, vec![m30, m20, m1]);
    assert_eq!(env.pending_mails(now - Duration::hours(1), 10).await, vec![]);
}

#[tokio::test]
async fn put_mail_stores_a_mail_in_one_call_and_never_overwrites_it() {
    let env = TestEnv::new().await;
    let to = env.email("ana");
    let now = Utc::now();
    let mail = PendingMail::new(
        random_id().unwrap(),
        Mail {
            to: to.to_string(),
            subject: "Restablece tu contraseña".into(),
            text: "Abre el enlace".into(),
            html: "<p>Abre el enlace</p>".into(),
        },
        whole_micros(now - Duration::minutes(2)),
    );

    let before = env.calls.now();
    env.store.put_outgoing(&mail).await.unwrap();
    assert_eq!(env.calls.since(before).calls, 1, "one PutItem");
    let item = env.raw(&keys::mail(&mail)).await.expect("the mail is in the outbox");
    assert_eq!(text(&item, "to"), Some(to.as_str()));
    assert_eq!(env.pending_mails(now, 10).await, vec![mail.clone()]);

    assert!(env.store.lease(&mail, now, now + Duration::minutes(5)).await.unwrap().is_some());
    let again = env.store.put_outgoing(&mail).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "a second put is refused: {again:?}");
    assert!(
        env.store.lease(&mail, now + Duration::minutes(1), now + Duration::minutes(6)).await.unwrap().is_none(),
        "and left the lease in place"
    );
}

#[tokio::test]
async fn a_leased_mail_is_not_leased_again_until_the_lease_ends_and_mail_sent_deletes_it() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await;
    let now = Utc::now();
    let (_, mail) = upgraded(&env, &ana, now - Duration::minutes(10)).await;
    let (_, other) = upgraded(&env, &ana, now - Duration::minutes(10)).await;

    let before = env.calls.now();
    assert!(env.store.lease(&mail, now, now + Duration::minutes(5)).await.unwrap().is_some());
    assert_eq!(env.calls.since(before).calls, 1, "one UpdateItem");
    assert!(
        env.store.lease(&mail, now + Duration::minutes(1), now + Duration::minutes(6)).await.unwrap().is_none(),
        "held by the first leaser"
    );
    assert!(env.store.lease(&other, now + Duration::minutes(1), now + Duration::minutes(6)).await.unwrap().is_some());
    assert!(
        env.store.lease(&mail, now + Duration::minutes(6), now + Duration::minutes(11)).await.unwrap().is_some(),
        "an expired lease can be taken over"
    );

    let before = env.calls.now();
    env.store.clear(&mail).await.unwrap();
    assert_eq!(env.calls.since(before).calls, 1, "one DeleteItem");
    assert!(env.raw(&keys::mail(&mail)).await.is_none());
    assert_eq!(env.pending_mails(now, 10).await, vec![other]);
    assert!(
        env.store.lease(&mail, now + Duration::hours(1), now + Duration::hours(2)).await.unwrap().is_none(),
        "gone"
    );
    env.store.clear(&mail).await.expect("sending twice is harmless");
}

// ------------------------------------------------------------------ operators' writes

#[tokio::test]
async fn add_account_writes_the_profile_and_the_login_in_one_call() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let account =
        Account { id: new_account_id(), email: email.clone(), name: "Ana Ruiz".into(), company: COMPANY.into() };
    let hash = hasher().hash(PASSWORD).unwrap();
    let before = env.calls.now();
    env.store.add_account(&account, &hash).await.unwrap();
    assert_eq!(env.calls.since(before).calls, 1, "one TransactWriteItems");
    assert_eq!(env.store.account(&account.id).await.unwrap(), Some(account.clone()));
    let login = credentials(&env, &email).await;
    assert_eq!((login.account, login.password_hash, login.password_epoch), (account.id, Some(hash), 0));
}

#[tokio::test]
async fn add_account_refuses_a_taken_email_and_keeps_the_first() {
    let env = TestEnv::new().await;
    let email = env.email("ana");
    let first = env.add_account(&email, PASSWORD, COMPANY).await;
    let second = Account {
        id: new_account_id(),
        email: email.clone(),
        name: "Otra Persona".into(),
        company: "Otra Empresa SA".into(),
    };
    let result = env.store.add_account(&second, &hasher().hash("Otra-clave-2026").unwrap()).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(env.store.account(&first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(env.store.account(&second.id).await.unwrap(), None, "no profile without its login");
    let login = credentials(&env, &email).await;
    assert_eq!(login.account, first.id, "the e-mail still logs in to the first account");
    assert!(hasher().verify(PASSWORD, login.password_hash.as_deref().unwrap()), "with its password");
}

#[tokio::test]
async fn add_account_refuses_a_taken_id_and_writes_no_login() {
    let env = TestEnv::new().await;
    let first = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await;
    let mut second = first.clone();
    second.email = env.email("otra");
    second.company = "Otra Empresa SA".into();
    let result = env.store.add_account(&second, &hasher().hash("Otra-clave-2026").unwrap()).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(env.store.account(&first.id).await.unwrap(), Some(first));
    assert_eq!(env.store.credentials(&second.email).await.unwrap(), None, "no login without its profile");
}

#[tokio::test]
async fn add_account_with_subscriptions_writes_all_or_nothing() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await;
    let taken = env.add_serial(&ana, "SAE", "7.0", Plan::Subscription, Some(13)).await;
    let email = env.email("luis");
    let luis = Account {
        id: new_account_id(),
        email: email.clone(),
        name: "Luis Pérez".into(),
        company: "Distribuidora Pérez SC".into(),
    };
    let hash = hasher().hash(PASSWORD).unwrap();

    let fresh = sae7(&luis.id, env.days_from_today(30));
    let mut clash = sae7(&luis.id, env.days_from_today(30));
    clash.serial = taken.serial.clone();
    let result = env.store.add_account_with_subscriptions(&luis, &hash, &[fresh.clone(), clash]).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(env.store.account(&luis.id).await.unwrap(), None, "no profile");
    assert_eq!(env.store.credentials(&email).await.unwrap(), None, "no login");
    assert!(env.raw(&keys::serial(&luis.id, &fresh.serial)).await.is_none(), "no serial");
    assert!(env.raw(&keys::serial_claim(&fresh.serial)).await.is_none(), "no claim");
    let claim = env.raw(&keys::serial_claim(&taken.serial)).await.unwrap();
    assert_eq!(text(&claim, "account_id"), Some(ana.id.as_str()), "the taken serial keeps its owner");

    let second = sae7(&luis.id, env.days_from_today(60));
    let before = env.calls.now();
    env.store.add_account_with_subscriptions(&luis, &hash, &[fresh.clone(), second.clone()]).await.unwrap();
    assert_eq!(env.calls.since(before).calls, 1, "one TransactWriteItems");
    assert_eq!(env.store.account(&luis.id).await.unwrap(), Some(luis.clone()));
    assert_eq!(credentials(&env, &email).await.account, luis.id);
    assert_eq!(sorted(env.store.subscriptions(&luis.id).await.unwrap()), sorted(vec![fresh.clone(), second]));
    assert_eq!(env.store.serial_with_account(&fresh.serial).await.unwrap(), Some((fresh, luis)));
}

#[tokio::test]
async fn add_subscription_with_an_existing_serial_number_is_a_conflict_and_writes_nothing() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await;
    let luis = env.add_account(&env.email("luis"), PASSWORD, "Distribuidora Pérez SC").await;
    let original = env.add_serial(&ana, "SAE", "7.0", Plan::Subscription, Some(13)).await;

    let mut elsewhere = original.clone();
    elsewhere.account = luis.id.clone();
    let result = env.store.add_subscription(&elsewhere).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert!(env.raw(&keys::serial(&luis.id, &original.serial)).await.is_none(), "no half-written serial");
    assert_eq!(env.store.subscriptions(&luis.id).await.unwrap(), vec![]);

    let mut same_account = original.clone();
    same_account.users = 9;
    let result = env.store.add_subscription(&same_account).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");

    let claim = env.raw(&keys::serial_claim(&original.serial)).await.unwrap();
    assert_eq!(text(&claim, "account_id"), Some(ana.id.as_str()));
    assert_eq!(env.store.subscription(&ana.id, &original.serial).await.unwrap(), Some(original));
}

#[tokio::test]
async fn add_subscription_for_a_missing_account_is_a_conflict_and_writes_nothing() {
    let env = TestEnv::new().await;
    let nobody = new_account_id();
    let sub = sae7(&nobody, env.days_from_today(30));
    let result = env.store.add_subscription(&sub).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert!(env.raw(&keys::serial(&nobody, &sub.serial)).await.is_none());
    assert!(env.raw(&keys::serial_claim(&sub.serial)).await.is_none(), "no claim left behind");
    assert_eq!(env.store.serial_with_account(&sub.serial).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_writers_of_the_same_serial_number_exactly_one_wins() {
    let env = TestEnv::new().await;
    let serial = Serial::generate().unwrap();
    let mut owners = Vec::new();
    for i in 0..8 {
        owners.push(env.add_account(&env.email(&format!("owner{i}")), PASSWORD, COMPANY).await.id);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for owner in &owners {
        let store = env.store.clone();
        let mut sub = sae7(owner, env.days_from_today(30));
        sub.serial = serial.clone();
        tasks.spawn(async move { (sub.account.clone(), store.add_subscription(&sub).await) });
    }
    let results = tasks.join_all().await;
    let winners: Vec<&AccountId> = results.iter().filter(|(_, r)| r.is_ok()).map(|(a, _)| a).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (_, r) in results.iter().filter(|(_, r)| r.is_err()) {
        assert!(matches!(r, Err(StoreError::Conflict(_))), "a loser is told the serial exists: {r:?}");
    }
    let claim = env.raw(&keys::serial_claim(&serial)).await.unwrap();
    assert_eq!(text(&claim, "account_id"), Some(winners[0].as_str()), "the claim points at the winner");
    for owner in &owners {
        let owns = env.store.subscription(owner, &serial).await.unwrap().is_some();
        assert_eq!(owns, owner == winners[0], "{owner} owns the serial: {owns}");
    }
}

// ------------------------------------------------------------------ failures

#[tokio::test]
async fn an_item_of_unexpected_shape_is_reported_as_corrupt_naming_its_key() {
    let env = TestEnv::new().await;
    let account = new_account_id();
    let serial = Serial::generate().unwrap();
    let key = keys::serial(&account, &serial);
    let mut item: Item = key.item();
    item.extend(
        [
            ("type", av("serial")),
            ("serial", av(serial.as_str())),
            ("account_id", av(account.as_str())),
            ("system", av("SAE")),
            ("version", av("7.0")),
            ("users", av("three")),
            ("plan", av("subscription")),
            ("billing_period", av("monthly")),
            ("next_payment_on", av("2026-12-10")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v)),
    );
    uncounted(&env).put_item().table_name(env.store.table()).set_item(Some(item)).send().await.unwrap();

    let named = format!("{}/{}", key.pk, key.sk);
    for result in [
        env.store.subscriptions(&account).await.map(|_| ()),
        env.store.subscription(&account, &serial).await.map(|_| ()),
    ] {
        match result {
            Err(err @ StoreError::Corrupt { .. }) => {
                let message = err.to_string();
                assert!(message.contains(&named), "the message names the item: {message}");
                assert!(message.contains("users"), "and the attribute: {message}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
}

/// Awaits `f` and tells how long it took.
async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, StdDuration) {
    let started = Instant::now();
    let out = f.await;
    (out, started.elapsed())
}

/// Asserts that `result` is `Unavailable` and came within a few seconds.
fn assert_unavailable<T: std::fmt::Debug>(what: &str, (result, took): (Result<T, StoreError>, StdDuration)) {
    assert!(matches!(result, Err(StoreError::Unavailable(_))), "{what}: expected Unavailable, got {result:?}");
    assert!(took < StdDuration::from_secs(5), "{what} took {took:?}");
}

#[tokio::test]
async fn a_store_at_a_closed_port_is_unavailable_within_seconds() {
    let env = TestEnv::new().await;
    let conf = aws_sdk_dynamodb::config::Builder::from(&env.sdk).endpoint_url("http://127.0.0.1:1").build();
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(conf), env.store.table());
    let email = env.email("ana");
    let id = new_account_id();
    let sub = sae7(&id, env.days_from_today(13));
    let up = upgrade_of(&env, &sub, Serial::generate().unwrap());
    let (terms, mail, digest) = (terms_record(Utc::now()), mail_for(&up, &email, Utc::now()), TokenDigest::of("x"));

    // Side by side: each is timed on its own.
    let client = from("198.51.100.7");
    let (activated, upgraded) = (activation_event(&sub, env.today()), upgrade_event(&up));
    let (account, credentials, subscriptions, session, reserve, activate, add, commit) = tokio::join!(
        timed(store.account(&id)),
        timed(store.credentials(&email)),
        timed(store.subscriptions(&id)),
        timed(store.session(&id, &digest)),
        timed(store.reserve_login_attempt(&email, &client, Utc::now())),
        timed(store.activate(&sub, env.today(), &activated)),
        timed(store.add_subscription(&sub)),
        timed(store.commit_upgrade(&up, COMPANY, &terms, &mail, &upgraded)),
    );
    assert_unavailable("account", account);
    assert_unavailable("credentials", credentials);
    assert_unavailable("subscriptions", subscriptions);
    assert_unavailable("session", session);
    assert_unavailable("reserve_login_attempt", reserve);
    assert_unavailable("activate", activate);
    assert_unavailable("add_subscription", add);
    let (result, took) = commit;
    assert!(matches!(result, Err(UpgradeCommitError::Store(StoreError::Unavailable(_)))), "{result:?}");
    assert!(took < StdDuration::from_secs(5), "commit_upgrade took {took:?}");
}
