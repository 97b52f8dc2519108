//! Faults between the functions and their dependencies. A small TCP proxy sits in front of
//! DynamoDB Local (or moto) and forwards, refuses, hangs, slows down or loses answers.
//! Every route must then answer a 503 `unavailable` with `Retry-After` well inside the
//! Lambda timeout (never a 500, never a hang), and once the network heals the store must
//! be consistent: an upgrade committed fully or not at all, and its mail goes out.
//!
//! One test binary for every function (it links them all), so the suite stays quick to
//! build; the faults cost at most the SDK's operation timeout (4 s) per case and the
//! cases run concurrently. The proxy is `shared::testing::proxy`.

use std::time::{Duration, Instant};

use chrono::Utc;
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use shared::domain::token::issue_token;
use shared::domain::{Account, Plan, Serial, Subscription};
use shared::http::Function;
use shared::outbox::send_pending;
use shared::store::{
    keys, DynamoStore, LoginClient, PasswordResets, ResetToken, SubscriptionReader, LOCK_MINUTES, MAX_FAILED_LOGINS,
};
use shared::testing::{fixture, json_of, Fault, Proxy, TestEnv};

/// The shortest Lambda timeout of these functions (template.yaml): every answer, even a
/// failure, must come before it.
const LAMBDA_TIMEOUT: Duration = Duration::from_secs(6);
/// An answer slower than the SDK's attempt timeout (1.5 s).
const SLOWER_THAN_AN_ATTEMPT: Duration = Duration::from_secs(2);
/// An answer just inside the SDK's attempt timeout.
const JUST_UNDER_AN_ATTEMPT: Duration = Duration::from_millis(1200);

const PASSWORD: &str = "Password-ana-1";
const COMPANY: &str = "Comercial Ruiz SA de CV";

fn endpoint(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set: run the tests with `make test`"))
}

type Upgrade = Function<upgrade_serial::App<DynamoStore>>;

/// What a client saw.
#[derive(Debug)]
struct Answer {
    route: &'static str,
    status: u16,
    body: Value,
    retry_after: Option<String>,
    took: Duration,
}

async fn timed(route: &'static str, answer: impl std::future::Future<Output = Response<Body>>) -> Answer {
    let start = Instant::now();
    let res = answer.await;
    let took = start.elapsed();
    let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    Answer { route, status: res.status().as_u16(), body: json_of(&res), retry_after, took }
}

/// Every function's app, all on one account, with the store behind a proxy.
struct Portal {
    env: TestEnv,
    proxy: Proxy,
    ana: Account,
    token: String,
    serial: Subscription,
    reset_token: String,
    login: Function<login::App<DynamoStore>>,
    recover: Function<recover_password::App<DynamoStore>>,
    list: Function<list_subscriptions::App<DynamoStore>>,
    upgrade: Upgrade,
    license: Function<license_file::App<DynamoStore>>,
    validate: Function<validate_serial::App<DynamoStore>>,
}

impl Portal {
    async fn new() -> Portal {
        let env = TestEnv::new().await;
        env.add_products().await;
        let ana = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await;
        let serial = env.add_serial(&ana, "SAE", "7.0", Plan::Subscription, Some(13)).await;
        let token = env.session_for(&ana).await;
        let reset = issue_token().unwrap();
        env.store
            .put_reset_token(&ResetToken {
                digest: reset.digest,
                account: ana.id.clone(),
                email: ana.email.clone(),
                issued_at: Utc::now(),
                expires_at: Utc::now() + chrono::Duration::minutes(30),
                used: false,
            })
            .await
            .unwrap();
        let proxy = Proxy::start(&endpoint("AWS_ENDPOINT_URL_DYNAMODB")).await;
        // Every function built as its bootstrap builds it, on a store behind the proxy.
        let base = || env.base_via(Some(&proxy), None);
        let login = login::App::build(base());
        let recover = recover_password::App::build(base());
        let list = list_subscriptions::App::build(base());
        let upgrade = upgrade_serial::App::build(base());
        let license = license_file::App::build(base());
        let validate = validate_serial::App::build(base());
        let reset_token = reset.secret;
        Portal { env, proxy, ana, token, serial, reset_token, login, recover, list, upgrade, license, validate }
    }

    fn req(&self, name: &str) -> Request {
        let serial = self.serial.serial.to_string();
        fixture(
            name,
            &[
                ("EMAIL", self.ana.email.as_str()),
                ("PASSWORD", if name == "login" { PASSWORD } else { "New-password-2026" }),
                ("TOKEN", if name == "password-reset-confirm" { &self.reset_token } else { &self.token }),
                ("SERIAL", &serial),
                ("TERMS_VERSION", "2022-10"),
                ("COMPANY", COMPANY),
                ("INSTALLATION", "INST-7F3A-22C9"),
            ],
        )
    }

    /// Every route at once (each handler's future boxed: eight of them side by side
    /// would not fit on a test thread's stack in a debug build).
    async fn all_routes(&self) -> Vec<Answer> {
        let (a, b, c, d, e, f, g, h) = tokio::join!(
            Box::pin(timed("POST /login", self.login.handle(self.req("login")))),
            Box::pin(timed("POST /logout", self.login.handle(self.req("logout")))),
            Box::pin(timed("POST /password-reset", self.recover.handle(self.req("password-reset")))),
            Box::pin(timed("POST /password-reset/confirm", self.recover.handle(self.req("password-reset-confirm")))),
            Box::pin(timed("GET /subscriptions", self.list.handle(self.req("subscriptions")))),
            Box::pin(timed("POST /subscriptions/{serial}/upgrade", self.upgrade.handle(self.req("upgrade")))),
            Box::pin(timed("POST /subscriptions/{serial}/license-file", self.license.handle(self.req("license-file")))),
            Box::pin(timed("POST /serials/{serial}/validate", self.validate.handle(self.req("validate")))),
        );
        vec![a, b, c, d, e, f, g, h]
    }
}

fn assert_unavailable(answers: &[Answer], table: &str) {
    for a in answers {
        assert_eq!((a.status, a.body["code"].as_str()), (503, Some("unavailable")), "{a:?}");
        assert_eq!(a.retry_after.as_deref(), Some("5"), "{a:?}");
        assert_eq!(a.body["status"], 503);
        assert!(a.took < LAMBDA_TIMEOUT, "{} took {:?}", a.route, a.took);
        let text = a.body.to_string();
        for internal in ["127.0.0.1", table, "Dispatch", "Timeout", "timeout", "dynamodb", "DynamoDB"] {
            assert!(!text.contains(internal), "{} leaks {internal:?}: {text}", a.route);
        }
    }
}

/// DynamoDB fails with `fault`: every route answers 503 in time; afterwards every route
/// works again and nothing half-done is left behind.
async fn every_route_survives(fault: Fault) {
    let p = Portal::new().await;
    p.proxy.set(fault);
    let answers = p.all_routes().await;
    assert_unavailable(&answers, p.env.store.table());
    for a in &answers {
        eprintln!("{fault:?}: {} -> {} in {:?}", a.route, a.status, a.took);
    }

    p.proxy.set(Fault::Forward);
    // Nothing changed: one serial, not upgraded; no mail went out.
    let serials = p.env.store.subscriptions(&p.ana.id).await.unwrap();
    assert_eq!(serials.len(), 1, "{serials:?}");
    assert_eq!(serials[0].superseded_by, None);
    assert!(p.env.mails_to(&p.ana.email).is_empty());
    // The network is back: each route does its job (the reset last: it ends the sessions).
    let healed = [
        (timed("POST /login", p.login.handle(p.req("login"))).await, 200),
        (timed("GET /subscriptions", p.list.handle(p.req("subscriptions"))).await, 200),
        (timed("upgrade", p.upgrade.handle(p.req("upgrade"))).await, 201),
        (timed("license file", p.license.handle(p.req("license-file"))).await, 201),
        (timed("validate", p.validate.handle(p.req("validate"))).await, 200),
        (timed("POST /logout", p.login.handle(p.req("logout"))).await, 204),
        (timed("POST /password-reset", p.recover.handle(p.req("password-reset"))).await, 202),
        (timed("confirm", p.recover.handle(p.req("password-reset-confirm"))).await, 204),
    ];
    for (a, expected) in healed {
        assert_eq!(a.status, expected, "after {fault:?}, once healed: {a:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_503_in_time_whatever_dynamodb_does() {
    side_by_side(vec![
        ("reset".into(), Box::pin(every_route_survives(Fault::Reset))),
        ("hang".into(), Box::pin(every_route_survives(Fault::Hang))),
        ("answers too late".into(), Box::pin(every_route_survives(Fault::Slow(SLOWER_THAN_AN_ATTEMPT)))),
        ("answers lost".into(), Box::pin(every_route_survives(Fault::LoseAnswer))),
        ("each call just in time".into(), Box::pin(each_call_just_under_its_timeout())),
        ("lost logins".into(), Box::pin(lost_logins_lock_for_fifteen_minutes_not_forever())),
    ])
    .await;
}

type Case = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Cases of one test that run at the same time. They mostly wait on timeouts, so a few at
/// once keeps the suite to seconds; all of them at once would share one DynamoDB Local and
/// two cores so thinly that an upgrade's own time, which is what they time against the
/// Lambda timeout, grows with their number rather than with the fault.
const CASES_AT_ONCE: usize = 4;

/// Runs independent cases, [`CASES_AT_ONCE`] at a time, and reports every failing one.
async fn side_by_side(cases: Vec<(String, Case)>) {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(CASES_AT_ONCE));
    let tasks: Vec<_> = cases
        .into_iter()
        .map(|(name, case)| {
            let slots = slots.clone();
            let task = tokio::spawn(async move {
                let _slot = slots.acquire_owned().await.expect("the semaphore is never closed");
                case.await
            });
            (name, task)
        })
        .collect();
    let mut failures = Vec::new();
    for (name, task) in tasks {
        if let Err(e) = task.await {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// One upgrade whose DynamoDB requests fail with `fault` from the `at`th on (0 to 3: the
/// reads, which go out together in any order: the session, the old serial, the account and
/// the catalog on first use; then the transaction, which also leases the mail and writes
/// the event for the table's stream, and the mail's removal). Returns what the store holds afterwards, checked for
/// consistency.
async fn upgrade_cut(fault: Fault, at: usize) -> String {
    let env = TestEnv::new().await;
    env.add_products().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await;
    let old = env.add_serial(&ana, "SAE", "7.0", Plan::Subscription, Some(13)).await;
    let token = env.session_for(&ana).await;
    let proxy = Proxy::start(&endpoint("AWS_ENDPOINT_URL_DYNAMODB")).await;
    let app = upgrade_serial::App::build(env.base_via(Some(&proxy), None));
    let req =
        || fixture("upgrade", &[("TOKEN", &token), ("SERIAL", old.serial.as_str()), ("TERMS_VERSION", "2022-10")]);
    let case = format!("{fault:?} from request {at}");

    let before = proxy.seen().len();
    proxy.set_from(at, fault);
    let first = timed("upgrade", app.handle(req())).await;
    proxy.set(Fault::Forward);
    let seen = proxy.seen();
    let cut = seen.get(before + at).cloned().unwrap_or_else(|| "nothing".into());
    // Whether the fault hit the mail's removal from the outbox (with the SDK's retries).
    let cut_a_clear = seen.iter().skip(before + at).any(|op| op.as_str() == "DeleteItem");
    assert!(first.took < LAMBDA_TIMEOUT, "{case}: took {:?}", first.took);
    assert!(matches!(first.status, 201 | 503), "{case}: {first:?}");
    if first.status == 503 {
        assert_eq!(first.retry_after.as_deref(), Some("5"), "{case}");
    }

    // What the store holds, read directly.
    let stored_old = env.store.subscription(&ana.id, &old.serial).await.unwrap().unwrap();
    let serials = env.store.subscriptions(&ana.id).await.unwrap();
    let outbox = env.pending_mails(Utc::now() + chrono::Duration::hours(1), 10).await;
    let terms = env.raw(&keys::terms(&ana.id, &old.serial)).await;
    let sent = env.mails_to(&ana.email).len();
    let committed = match &stored_old.superseded_by {
        None => {
            assert_eq!(serials.len(), 1, "{case}: not committed, yet {serials:?}");
            assert!(outbox.is_empty() && terms.is_none() && sent == 0, "{case}: half an upgrade");
            assert_eq!(first.status, 503, "{case}");
            false
        }
        Some(new) => {
            assert_eq!(serials.len(), 2, "{case}");
            let stored_new = env.store.subscription(&ana.id, new).await.unwrap().expect("the new serial");
            assert_eq!(stored_new.upgraded_from.as_ref(), Some(&old.serial), "{case}");
            assert_eq!(stored_old.valid_until, old.next_payment_on, "{case}");
            assert!(env.raw(&keys::serial_claim(new)).await.is_some(), "{case}: claim");
            assert!(terms.is_some(), "{case}: terms record");
            assert!(sent + outbox.len() >= 1, "{case}: the mail is neither sent nor kept");
            assert!(outbox.iter().all(|m| m.id == new.as_str()), "{case}");
            if first.status == 201 {
                assert_eq!(first.body["subscription"]["serial"], new.as_str(), "{case}");
            }
            true
        }
    };

    // The customer asks again: the same serial (or the first one now).
    let again = timed("upgrade", app.handle(req())).await;
    assert_eq!(again.status, if committed { 200 } else { 201 }, "{case}: {again:?}");
    let serials = env.store.subscriptions(&ana.id).await.unwrap();
    assert_eq!(serials.len(), 2, "{case}: one new serial in all");
    // The scheduled retry (the outbox's routine, as `send-pending-mail` runs it) sends
    // whatever is left: the customer ends up with the mail, and the bus with the event
    // (which never left through the request).
    let later = Utc::now() + chrono::Duration::minutes(3);
    send_pending(&env.store, &env.mailer, later).await.unwrap();
    send_pending(&env.store, &env.bus.bus, later).await.unwrap();
    assert!(env.pending_mails(Utc::now() + chrono::Duration::hours(1), 10).await.is_empty());
    assert!(env.pending_events(Utc::now() + chrono::Duration::hours(1), 10).await.is_empty());
    let mails = env.mails_to(&ana.email).len();
    let events = env.bus.published_of("SerialUpgraded").await.len();
    // A mail whose removal from the outbox never reached the store is marked sent instead,
    // off the request's path; if the mark is lost too, it goes out again (the outbox is at
    // least once). In every other case exactly one. The event is published once: only the
    // scheduled run handed it over.
    let resent = (fault == Fault::Reset || fault == Fault::Hang) && cut_a_clear;
    let at_most = if resent { 2 } else { 1 };
    assert!((1..=at_most).contains(&mails), "{case} (cut at {cut}): mails={mails}");
    assert_eq!(events, 1, "{case} (cut at {cut}): events={events}");
    format!("{case:<40} cut at {cut:<20} -> {} committed={committed} mails={mails} events={events}", first.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_cut_anywhere_commits_fully_or_not_at_all_and_its_mail_goes_out() {
    let mut cases = Vec::new();
    for at in 0..7 {
        cases.push((Fault::Reset, at));
        cases.push((Fault::LoseAnswer, at));
    }
    cases.push((Fault::Hang, 3));
    cases.push((Fault::Slow(SLOWER_THAN_AN_ATTEMPT), 3));
    let mut cases: Vec<(String, Case)> = cases
        .into_iter()
        .map(|(fault, at)| -> (String, Case) {
            (
                format!("{fault:?} from request {at}"),
                Box::pin(async move { eprintln!("{}", upgrade_cut(fault, at).await) }),
            )
        })
        .collect();
    // And SES, not DynamoDB, failing after the commit.
    cases.push(("SES hangs".into(), Box::pin(upgrade_with_slow_ses(Fault::Hang))));
    cases.push(("SES answers too late".into(), Box::pin(upgrade_with_slow_ses(Fault::Slow(Duration::from_secs(5))))));
    side_by_side(cases).await;
}

/// SES does not answer in time (`fault`): the upgrade answers 201 all the same, within
/// the Lambda timeout, and its mail waits in the outbox for the retry.
async fn upgrade_with_slow_ses(fault: Fault) {
    let env = TestEnv::new().await;
    env.add_products().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, COMPANY).await;
    let old = env.add_serial(&ana, "SAE", "7.0", Plan::Subscription, Some(13)).await;
    let token = env.session_for(&ana).await;
    let ses = Proxy::start(&endpoint("AWS_ENDPOINT_URL_SESV2")).await;
    ses.set(fault);
    let app: Upgrade = upgrade_serial::App::build(env.base_via(None, Some(&ses)));

    let req = fixture("upgrade", &[("TOKEN", &token), ("SERIAL", old.serial.as_str()), ("TERMS_VERSION", "2022-10")]);
    let a = timed("upgrade", app.handle(req)).await;
    assert_eq!(a.status, 201, "{fault:?}: the upgrade does not wait for SES: {a:?}");
    assert!(a.took < LAMBDA_TIMEOUT, "{fault:?}: took {:?}", a.took);
    let new = Serial::parse(a.body["subscription"]["serial"].as_str().unwrap()).unwrap();
    let pending = env.pending_mails(Utc::now() + chrono::Duration::hours(1), 10).await;
    assert_eq!(pending.len(), 1, "{fault:?}: {pending:?}");
    assert_eq!(pending[0].id, new.as_str());
    assert!(pending[0].mail.text.contains(new.as_str()));
    let sent = env.mails_to(&ana.email).len();
    eprintln!("{fault:?} SES: 201 in {:?}; SES requests {:?}; mails SES kept {sent}", a.took, ses.seen());
}

/// Login attempts whose answers were lost count as failures (the store did count them),
/// so an outage can use up a client's five attempts; they then lock that client for the
/// usual 15 minutes, never for good.
async fn lost_logins_lock_for_fifteen_minutes_not_forever() {
    let p = Portal::new().await;
    let client = keys::login_client(&p.ana.email, &LoginClient::Address("203.0.113.10".into()));
    let counted = || async { p.env.raw(&client).await.map(|i| i["failures"].as_n().unwrap().parse::<u32>().unwrap()) };
    // Each such login counts its attempt and the SDK's retries of it (how many retries fit
    // in the request's budget depends on the machine's load): a few logins use them up.
    for _ in 0..MAX_FAILED_LOGINS {
        // The login's read goes through; the answers to its attempt are lost.
        p.proxy.set_from(1, Fault::LoseAnswer);
        let a = timed("POST /login", p.login.handle(p.req("login"))).await;
        assert_eq!(a.status, 503, "{a:?}");
        p.proxy.set(Fault::Forward);
        if counted().await.unwrap_or(0) >= MAX_FAILED_LOGINS {
            break;
        }
    }
    assert_eq!(counted().await, Some(MAX_FAILED_LOGINS), "every lost attempt was counted, up to the limit");
    let a = timed("POST /login", p.login.handle(p.req("login"))).await;
    assert_eq!((a.status, a.body["code"].as_str()), (429, Some("account_locked")), "{a:?}");
    let retry: i64 = a.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");

    // Fifteen minutes after the last attempt (moved back in the store) it works again.
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let past = (Utc::now() - chrono::Duration::minutes(LOCK_MINUTES) - chrono::Duration::seconds(1)).to_rfc3339();
    p.env
        .store
        .client()
        .update_item()
        .table_name(p.env.store.table())
        .set_key(Some(client.item()))
        .update_expression("SET attempted_at = :past")
        .expression_attribute_values(":past", S(past))
        .send()
        .await
        .unwrap();
    let a = timed("POST /login", p.login.handle(p.req("login"))).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(p.env.raw(&client).await.unwrap()["failures"].as_n().unwrap(), "0", "a success starts the count again");
}

/// A store that answers every call, each just inside the SDK's attempt timeout: no single
/// call fails, but a route of several calls would outlive the Lambda timeout. Every route
/// answers in time all the same, done or 503; an upgrade stopped on the way committed
/// fully or not at all.
async fn each_call_just_under_its_timeout() {
    let p = Portal::new().await;
    p.proxy.set(Fault::Slow(JUST_UNDER_AN_ATTEMPT));
    let answers = p.all_routes().await;
    let done = [200, 204, 202, 204, 200, 201, 201, 200];
    for (a, ok) in answers.iter().zip(done) {
        eprintln!("{:?}: {} -> {} in {:?}", Fault::Slow(JUST_UNDER_AN_ATTEMPT), a.route, a.status, a.took);
        assert!(a.took < LAMBDA_TIMEOUT, "{} took {:?}", a.route, a.took);
        // The reset confirmed alongside replaces the password the login checked: its
        // session is refused (a session lives only for the password it was made with).
        let raced_reset = a.route == "POST /login" && a.status == 401 && a.body["code"] == "invalid_credentials";
        // The logout and the reset alongside end the session the bearer routes share: a
        // session read that the SDK retried after either finds no session any more.
        let raced_logout = a.status == 401 && a.body["code"] == "unauthorized";
        if a.status != ok && !raced_reset && !raced_logout {
            assert_unavailable(std::slice::from_ref(a), p.env.store.table());
        }
    }
    p.proxy.set(Fault::Forward);
    let old = p.env.store.subscription(&p.ana.id, &p.serial.serial).await.unwrap().unwrap();
    let serials = p.env.store.subscriptions(&p.ana.id).await.unwrap();
    // The upgrade's mail only (a reset cut short may have left its own in the outbox).
    let outbox: Vec<_> = p
        .env
        .pending_mails(Utc::now() + chrono::Duration::hours(1), 10)
        .await
        .into_iter()
        .filter(|m| m.mail.subject.contains("Actualización"))
        .collect();
    let sent = p.env.mails_to(&p.ana.email).iter().filter(|m| m.subject.contains("Actualización")).count();
    // And its event, kept or published, like the mail.
    let events_kept = p.env.pending_events(Utc::now() + chrono::Duration::hours(1), 10).await.len();
    let published = p.env.bus.published_of("SerialUpgraded").await.len();
    match old.superseded_by {
        None => assert!(
            serials.len() == 1 && outbox.is_empty() && sent == 0 && events_kept == 0 && published == 0,
            "half an upgrade"
        ),
        Some(new) => {
            assert_eq!(serials.len(), 2);
            assert!(serials.iter().any(|s| s.serial == new && s.upgraded_from.as_ref() == Some(&old.serial)));
            assert!(sent + outbox.len() >= 1, "the upgrade's mail is neither sent nor kept");
            assert!(published + events_kept >= 1, "the upgrade's event is neither published nor kept");
        }
    }
}
