//! A password reset throws every intruder out: logins with the old password racing the
//! reset (through the real `login` and `recover-password` functions, on DynamoDB Local)
//! never keep a session once the reset has answered.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use shared::domain::token::issue_token;
use shared::store::{PasswordResets, ResetToken};
use shared::testing::{fixture, json_of, TestEnv};

const OLD: &str = "Comercial-2026";
const NEW: &str = "Nueva-clave-segura-2026";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_racing_a_reset_never_keep_a_session() {
    for round in 0..3 {
        let env = Arc::new(TestEnv::new().await);
        let ana = env.add_account(&env.email("ana"), OLD, "Comercial Ruiz SA de CV").await;
        let reset = issue_token().unwrap();
        let now = Utc::now();
        env.store
            .put_reset_token(&ResetToken {
                digest: reset.digest.clone(),
                account: ana.id.clone(),
                email: ana.email.clone(),
                issued_at: now,
                expires_at: now + chrono::Duration::minutes(30),
                used: false,
            })
            .await
            .unwrap();
        let login = Arc::new(login::App::build(env.base()));
        let recover = recover_password::App::build(env.base());

        // An intruder who knows the old password logs in over and over while the owner resets.
        let mut logins = Vec::new();
        for _ in 0..8 {
            let (login, email) = (login.clone(), ana.email.to_string());
            logins.push(tokio::spawn(async move {
                let res = login.handle(fixture("login", &[("EMAIL", &email), ("PASSWORD", OLD)])).await;
                (res.status().as_u16(), json_of(&res))
            }));
        }
        let confirm = fixture("password-reset-confirm", &[("TOKEN", &reset.secret), ("PASSWORD", NEW)]);
        let reset_answer = recover.handle(confirm).await;
        assert_eq!(reset_answer.status(), 204, "round {round}: {:?}", json_of(&reset_answer));
        let mut tokens: Vec<String> = Vec::new();
        for t in logins {
            let (status, body): (u16, Value) = t.await.unwrap();
            // 429: more than five at once from one address wait their turn.
            assert!(matches!(status, 200 | 401 | 429), "round {round}: {status} {body}");
            if status == 200 {
                tokens.push(body["token"].as_str().unwrap().to_string());
            }
        }
        for token in &tokens {
            assert!(env.session_of_token(token, Utc::now()).await.is_none(), "round {round}: a session survived");
        }
        let after = login.handle(fixture("login", &[("EMAIL", ana.email.as_str()), ("PASSWORD", OLD)])).await;
        assert_eq!(after.status(), 401, "the old password is gone");
        eprintln!("round {round}: {} of 8 racing logins got a session first; all dead after the reset", tokens.len());
    }
}
