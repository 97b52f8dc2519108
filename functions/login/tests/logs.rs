//! What `login`'s handler writes to its log, even at `RUST_LOG=trace`: never the
//! password, the token or the hash. In a test binary of its own, because a global
//! subscriber must be set before any log call site is first used. The same through the
//! Lambda runtime's own loop, with the built bootstrap: scripts/logs_test.py.

use std::sync::{Arc, Mutex};

use login::App;
use shared::testing::{fixture, json_of, TestEnv};

const PASSWORD: &str = "Comercial-2026";

/// Collects log lines written by the handler.
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
async fn logs_hold_neither_the_password_nor_the_token() {
    let capture = Capture::default();
    let writer = capture.clone();
    // The functions' own subscriber (shared::telemetry::init), writing here.
    let subscriber = shared::telemetry::subscriber("trace", move || writer.clone());
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let env = TestEnv::new().await;
    let email = env.email("ana").to_string();
    env.add_account(&env.email("ana"), PASSWORD, "Comercial Ruiz SA de CV").await;
    let app = App::build(env.base());
    let res = app.handle(fixture("login", &[("EMAIL", &email), ("PASSWORD", PASSWORD)])).await;
    let token = json_of(&res)["token"].as_str().unwrap().to_string();
    app.handle(fixture("login", &[("EMAIL", &email), ("PASSWORD", "Wrong-Secret-99")])).await;
    app.handle(fixture("logout", &[("TOKEN", &token)])).await;
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("logged in"), "logging is captured: {logs}");
    assert!(!logs.contains(PASSWORD));
    assert!(!logs.contains("Wrong-Secret-99"));
    assert!(!logs.contains(&token));
    // Auth events name the e-mail by its keyed tag and the client by its address, never the
    // e-mail itself.
    let tag = shared::auth::email_tag(&env.settings.log_key, &env.email("ana"));
    assert!(logs.contains(&format!("\"email_tag\":\"{tag}\"")), "auth events carry the tag: {logs}");
    assert!(logs.contains("\"event\":\"login_failed\"") && logs.contains("203.0.113.10"), "{logs}");
    assert!(!logs.contains(&email), "the e-mail is in the logs: {logs}");
    if let Some(i) = logs.find("$argon2id$") {
        panic!("hash in logs: {}", &logs[i.saturating_sub(400)..(i + 100).min(logs.len())]);
    }
}
