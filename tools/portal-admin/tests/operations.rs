//! The day-to-day commands against DynamoDB Local and moto, run as an operator runs them:
//! `mail list [--dead]`, `mail retry`, `account show` and `invite`, on a test's table.

use std::process::Command;

use chrono::{Duration, Utc};
use shared::domain::{Account, AccountId, Email, Plan};
use shared::mail::{Mail, Mailer};
use shared::outbox::{deliver, Delivery, PendingMail};
use shared::store::{AccountWriter, Invitations, Logins, Outbox};
use shared::testing::{checked, fixture, json_of, reset_token_in, TestEnv};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `portal-admin` on the test's table, with the test's mail settings.
fn admin(env: &TestEnv, args: &[&str]) -> Run {
    let m = &env.mail_settings;
    let out = Command::new(env!("CARGO_BIN_EXE_portal-admin"))
        .args(args)
        .env("TABLE_NAME", env.store.table())
        .env("MAIL_FROM", &m.mail_from)
        .env("PORTAL_URL", &m.portal_url)
        .env("VENDOR_NAME", &m.vendor_name)
        .env("SUPPORT_PHONE", &m.support_phone)
        .env("DISTRIBUTOR_URL", &m.distributor_url)
        .env("DOWNLOAD_URL", &m.download_url)
        .env("EVENT_BUS_NAME", env.bus.bus.bus_name())
        .env_remove("RUST_LOG")
        .output()
        .expect("run portal-admin");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn ok(run: Run, what: &str) -> String {
    assert_eq!(run.code, Some(0), "{what}: {}", run.stderr);
    run.stdout
}

fn fails_with_one_line(run: &Run, what: &str) -> String {
    assert!(matches!(run.code, Some(c) if c != 0), "{what}: expected a failure, got {:?}", run.code);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: one line on stderr, got {:?}", run.stderr);
    lines[0].to_string()
}

/// A mail moto refuses for good (its sender has no identity there), now a dead letter.
async fn dead_mail(env: &TestEnv, to: &Email) -> PendingMail {
    let mail = Mail {
        to: to.to_string(),
        subject: "Actualización de versión para tu sistema Aspel SAE".into(),
        text: "Tu enlace: http://127.0.0.1:5173/password-reset?token=do-not-show-me".into(),
        html: "<p>http://127.0.0.1:5173/password-reset?token=do-not-show-me</p>".into(),
    };
    let pending = PendingMail::new(format!("upgrade-{}", env.tag), mail, Utc::now() - Duration::minutes(90));
    env.store.put_outgoing(&pending).await.unwrap();
    let refusing = Mailer::new(shared::aws::sesv2(&env.sdk), format!("refused.{}@unverified.example", env.tag));
    let delivery = deliver(&env.store, &refusing, &pending, Utc::now()).await;
    assert!(matches!(delivery, Delivery::Dead(_)), "{delivery:?}");
    pending
}

#[tokio::test]
async fn mail_list_shows_the_waiting_and_the_dead_without_their_bodies_and_mail_retry_sends_a_dead_one() {
    let env = TestEnv::new().await;
    let ana = env.email("ana");
    let dead = dead_mail(&env, &ana).await;
    let luis = env.email("luis");
    let waiting = PendingMail::new(
        format!("reset-{}", env.tag),
        Mail {
            to: luis.to_string(),
            subject: "Restablece tu contraseña de Aspel".into(),
            text: "token=also-secret".into(),
            html: "token=also-secret".into(),
        },
        Utc::now() - Duration::minutes(20),
    );
    env.store.put_outgoing(&waiting).await.unwrap();
    env.store.retry_later(&waiting, "mail service unavailable: TooManyRequestsException", Utc::now()).await.unwrap();

    let listed = ok(admin(&env, &["mail", "list"]), "mail list");
    let line = listed.lines().find(|l| l.contains(&waiting.id)).unwrap_or_else(|| panic!("{listed}"));
    assert!(line.contains(luis.as_str()) && line.contains("Restablece tu contraseña"), "{line}");
    assert!(line.contains("20m") && line.contains("TooManyRequestsException"), "age and last error: {line}");
    assert!(!listed.contains(&dead.id), "a dead mail is not waiting: {listed}");

    let listed = ok(admin(&env, &["mail", "list", "--dead"]), "mail list --dead");
    let line = listed.lines().find(|l| l.contains(&dead.id)).unwrap_or_else(|| panic!("{listed}"));
    assert!(line.contains(ana.as_str()) && line.contains("MessageRejected"), "{line}");
    for out in [&listed, &ok(admin(&env, &["mail", "list"]), "mail list")] {
        assert!(!out.contains("token=") && !out.contains("secret"), "never the bodies' links: {out}");
    }

    // The operator fixed the sender (here: the stack's own MAIL_FROM): the mail goes.
    let out = ok(admin(&env, &["mail", "retry", "--id", &dead.id]), "mail retry");
    assert!(out.contains(&format!("mail {} sent", dead.id)), "{out}");
    let mails = env.mails_to(&ana);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].subject, dead.mail.subject);
    assert_eq!(ok(admin(&env, &["mail", "list", "--dead"]), "mail list --dead").trim(), "no dead mails or events");

    let again = admin(&env, &["mail", "retry", "--id", &dead.id]);
    let line = fails_with_one_line(&again, "retrying a mail that is not dead");
    assert!(line.contains("no dead mail or event"), "{line}");
}

#[tokio::test]
async fn account_show_tells_support_everything_but_secrets() {
    let env = TestEnv::new().await;
    env.add_products().await;
    let email = env.email("ana");
    let ana = env.add_account(&email, "Password-ana-2026", "Comercial Ruiz SA de CV").await;
    let active = env.add_serial(&ana, "SAE", "7.0", Plan::Subscription, Some(13)).await;
    let expired = env.add_serial(&ana, "BANCO", "5.0", Plan::Subscription, Some(-20)).await;
    let token = env.session_for(&ana).await;
    let dead = dead_mail(&env, &email).await;

    let out = ok(admin(&env, &["account", "show", "--email", &email.as_str().to_uppercase()]), "account show");
    assert!(
        out.contains(ana.id.as_str()) && out.contains("Ana Ruiz") && out.contains("Comercial Ruiz SA de CV"),
        "{out}"
    );
    assert!(out.contains("password: set"), "{out}");
    let serial_line = |s: &str| out.lines().find(|l| l.contains(s)).unwrap_or_else(|| panic!("{s}: {out}")).to_string();
    assert!(serial_line(active.serial.as_str()).contains("active"));
    assert!(serial_line(expired.serial.as_str()).contains("expired"));
    assert!(out.contains("sessions (1):") && out.contains("alive") && out.contains("192.0.2.10"), "{out}");
    assert!(out.contains("dead mails (1):") && out.contains(&dead.id) && out.contains("MessageRejected"), "{out}");
    let (_, secret) = token.split_once('.').unwrap();
    let hash = env.store.credentials(&email).await.unwrap().unwrap().password_hash.unwrap();
    for never in [token.as_str(), secret, hash.as_str(), "$argon2id", "token=", "do-not-show-me"] {
        assert!(!out.contains(never), "{never} shown: {out}");
    }

    let unknown = admin(&env, &["account", "show", "--email", "nadie@example.com"]);
    assert!(fails_with_one_line(&unknown, "unknown e-mail").contains("no account with e-mail"));
}

#[tokio::test]
async fn an_imported_account_is_invited_once_and_its_link_sets_a_first_password_that_logs_in() {
    let env = TestEnv::new().await;
    let email = env.email("importada");
    let account = Account {
        id: AccountId::generate().unwrap(),
        email: email.clone(),
        name: "Rosa Díaz".into(),
        company: "Papelería Díaz SA".into(),
    };
    env.store.add_account_without_password(&account, &[]).await.unwrap();
    env.store.put_pending_invitation(&account.id, &email, Utc::now()).await.unwrap();
    let login = login::App::build(env.base());
    let recover = recover_password::App::build(env.base());

    // No password: nothing logs in yet.
    let try_login = |password: &str| fixture("login", &[("EMAIL", email.as_str()), ("PASSWORD", password)]);
    let res = checked(try_login("Cualquier-clave-2026"), |r| login.handle(r)).await;
    assert_eq!((res.status().as_u16(), json_of(&res)["code"].clone()), (401, "invalid_credentials".into()));
    let shown = ok(admin(&env, &["account", "show", "--email", email.as_str()]), "account show");
    assert!(shown.contains("password: not set; not invited yet"), "{shown}");

    let out = ok(admin(&env, &["invite", "--all-pending"]), "invite --all-pending");
    assert!(out.contains(&format!("invited {email}")) && out.contains("1 invited"), "{out}");
    let mails = env.mails_to(&email);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].subject, "Activa tu cuenta de Aspel");
    assert!(mails[0].body.contains("7 días") && mails[0].body.contains("Rosa Díaz"), "{}", mails[0].body);
    let again = ok(admin(&env, &["invite", "--all-pending"]), "invite --all-pending again");
    assert_eq!(again.trim(), "no pending invitations: nothing to send");
    assert_eq!(env.mails_to(&email).len(), 1, "a second run mails nobody");
    let shown = ok(admin(&env, &["account", "show", "--email", email.as_str()]), "account show");
    assert!(shown.contains("password: not set; invitation mailed"), "{shown}");

    // The link, followed as the page does: the first password, then a login with it.
    let token = reset_token_in(&mails[0].body).expect("a set-password link");
    let set = fixture("password-reset-confirm", &[("TOKEN", &token), ("PASSWORD", "Papeleria-Diaz-2026")]);
    let res = checked(set, |r| recover.handle(r)).await;
    assert_eq!(res.status(), 204);
    let res = checked(try_login("Papeleria-Diaz-2026"), |r| login.handle(r)).await;
    assert_eq!(res.status(), 200, "{:?}", json_of(&res));
    assert_eq!(json_of(&res)["account"]["name"], "Rosa Díaz");

    // Now it has a password: no invitation for it.
    let refused = admin(&env, &["invite", "--email", email.as_str()]);
    assert!(fails_with_one_line(&refused, "inviting an account with a password").contains("has a password already"));
    assert_eq!(env.mails_to(&email).len(), 1);
}

#[tokio::test]
async fn invite_by_email_mails_a_link_that_lasts_seven_days() {
    let env = TestEnv::new().await;
    let email = env.email("sinclave");
    let account = Account {
        id: AccountId::generate().unwrap(),
        email: email.clone(),
        name: "Beto Luna".into(),
        company: "Luna y Asociados SC".into(),
    };
    env.store.add_account_without_password(&account, &[]).await.unwrap();
    let before = Utc::now();
    let out = ok(admin(&env, &["invite", "--email", email.as_str()]), "invite --email");
    assert!(out.contains(&format!("invited {email}")), "{out}");
    let token = reset_token_in(&env.mails_to(&email)[0].body).unwrap();
    let stored =
        shared::store::PasswordResets::reset_token(&env.store, &shared::domain::token::TokenDigest::of(&token))
            .await
            .unwrap()
            .expect("the link's token is stored (as a digest)");
    let lasts = stored.expires_at - before;
    assert!(
        lasts > Duration::days(7) - Duration::minutes(1) && lasts <= Duration::days(7) + Duration::minutes(1),
        "{lasts}"
    );
    assert!(
        Outbox::<PendingMail>::outbox_page(&env.store, Utc::now(), None, 10).await.unwrap().entries.is_empty(),
        "sent and cleared"
    );

    let unknown = admin(&env, &["invite", "--email", "nadie@example.com"]);
    assert!(fails_with_one_line(&unknown, "unknown e-mail").contains("no account with e-mail"));
    let neither = admin(&env, &["invite"]);
    assert!(fails_with_one_line(&neither, "no target").contains("--email"), "{}", neither.stderr);
}
