//! What `account` writes to its log, even at `RUST_LOG=trace`: never a password, a
//! token, a TOTP secret, a code or a recovery code. In a test binary of its own, because a
//! global subscriber must be set before any log call site is first used.

mod common;

use std::sync::{Arc, Mutex};

use chrono::Utc;
use common::{ask, world, NEW_PASSWORD, PASSWORD};
use shared::testing::email_change_token_in;
use shared::testing::otp::app_code;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_hold_no_password_token_secret_or_code() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing::subscriber::set_global_default(shared::telemetry::subscriber("trace", move || writer.clone())).unwrap();
    let w = world().await;
    let t = w.token.as_str();
    let started = ask(&w.app, "totp-start", &[("TOKEN", t)]).await;
    let (secret, uri) = (started.body["secret"].as_str().unwrap(), started.body["otpauth_uri"].as_str().unwrap());
    let code = app_code(uri, Utc::now());
    ask(&w.app, "totp-confirm", &[("TOKEN", t), ("CODE", "000001")]).await;
    let on = ask(&w.app, "totp-confirm", &[("TOKEN", t), ("CODE", &code)]).await;
    let recovery = on.body["recovery_codes"][3].as_str().unwrap().to_string();
    let enrolment = w.env.raw(&shared::store::keys::totp(&w.ana.id)).await.unwrap();
    let sealed = enrolment["secret"].as_s().unwrap().clone();
    assert_eq!(ask(&w.app, "totp-disable", &[("TOKEN", t), ("CODE", &recovery)]).await.status, 204);
    ask(&w.app, "password-change", &[("TOKEN", t), ("PASSWORD", "Wrong-Secret-99"), ("NEW_PASSWORD", NEW_PASSWORD)])
        .await;
    let new_email = w.env.email("nueva");
    ask(&w.app, "email-change", &[("TOKEN", t), ("NEW_EMAIL", new_email.as_str()), ("PASSWORD", PASSWORD)]).await;
    let link = w.env.mails_to(&new_email).pop().expect("the link");
    let change_token = email_change_token_in(&link.body).unwrap();
    assert_eq!(
        ask(&w.app, "email-change-confirm", &[("TOKEN", t), ("EMAIL_CHANGE_TOKEN", &change_token)]).await.status,
        204
    );

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("two-step verification turned on") && logs.contains("e-mail changed"), "captured: {logs}");
    for (what, s) in [
        ("password", PASSWORD),
        ("wrong password", "Wrong-Secret-99"),
        ("bearer", t),
        ("secret", secret),
        ("sealed secret", sealed.as_str()),
        ("recovery code", recovery.as_str()),
        ("e-mail change token", change_token.as_str()),
        ("e-mail", w.ana.email.as_str()),
        ("new e-mail", new_email.as_str()),
    ] {
        if let Some(i) = logs.find(s) {
            panic!("{what} in the logs: {}", &logs[i.saturating_sub(300)..(i + 100).min(logs.len())]);
        }
    }
    // Six digits can occur by chance (in a timestamp's fraction): only as a value of its own.
    let bounded = logs.match_indices(code.as_str()).any(|(i, _)| {
        let (before, after) = (logs[..i].chars().next_back(), logs[i + code.len()..].chars().next());
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    });
    assert!(!bounded, "the code {code} in the logs");
}
