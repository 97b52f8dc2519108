//! Signed answers: every validation carries a JWS that verifies with the published JWKS
//! alone (checked here with a JOSE library, as a desktop program would), echoes the
//! nonce, refuses tampering, survives a key rotation; and company guesses are bounded per
//! serial and client address.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use shared::domain::{Account, Plan};
use shared::http::Function;
use shared::store::{DynamoStore, MAX_COMPANY_MISMATCHES};
use shared::testing::{checked, fixture, fixture_text, json_of, TestEnv};
use validate_serial::App;

const COMPANY: &str = "Comercial Ñandú, S.A. de C.V.";

async fn call(function: &Function<App<DynamoStore>>, req: Request) -> Response<Body> {
    checked(req, |r| function.handle(r)).await
}

async fn world() -> (TestEnv, Function<App<DynamoStore>>, Account) {
    let env = TestEnv::new().await;
    env.add_products().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", COMPANY).await;
    let app = App::build(env.base());
    (env, app, ana)
}

/// A validation with a nonce, from the client at `ip`.
fn validation(serial: &str, company: &str, nonce: &str, ip: &str) -> Request {
    let text = fixture_text("validate-with-nonce", &[("SERIAL", serial), ("COMPANY", company), ("NONCE", nonce)]);
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["requestContext"]["http"]["sourceIp"] = ip.into();
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

async fn jwks(app: &Function<App<DynamoStore>>) -> JwkSet {
    let res = call(app, fixture("jwks", &[])).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "public, max-age=300", "cacheable");
    serde_json::from_value(json_of(&res)).expect("a JWKS")
}

/// What a program does with an answer: check it with the JWKS, its issuer and expiry.
fn verify(license: &str, keys: &JwkSet) -> Result<Value, String> {
    let kid = decode_header(license).map_err(|e| e.to_string())?.kid.ok_or("no kid")?;
    let jwk = keys.find(&kid).ok_or("unknown key")?;
    let mut rules = Validation::new(Algorithm::EdDSA);
    rules.set_issuer(&["serial-portal"]);
    rules.set_required_spec_claims(&["exp", "iat", "iss"]);
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    decode::<Value>(license, &key, &rules).map(|d| d.claims).map_err(|e| e.to_string())
}

#[tokio::test]
async fn an_answer_is_signed_over_its_facts_and_verifies_with_the_published_keys() {
    let (env, app, ana) = world().await;
    let sub = env.add_serial(&ana, "SAE", "8.0", Plan::Subscription, Some(20)).await;
    let res = call(&app, validation(sub.serial.as_str(), "comercial ñandú sa de cv", "n-42", "203.0.113.10")).await;
    let body = json_of(&res);
    assert_eq!(res.status(), 200, "{body}");
    assert_eq!(body["nonce"], "n-42");
    let license = body["license"].as_str().unwrap();
    let keys = jwks(&app).await;
    let claims = verify(license, &keys).expect("verifies with the JWKS alone");
    for field in ["serial", "system", "version", "users", "status", "valid_until", "next_payment_on", "nonce"] {
        assert_eq!(claims[field], body[field], "{field} signed as answered");
    }
    assert_eq!(claims["company"], COMPANY, "the company as registered");
    let exp = claims["exp"].as_i64().unwrap();
    let next = chrono::NaiveDate::parse_from_str(body["next_payment_on"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let next_day_ends = next.succ_opt().unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp();
    assert!(exp <= next_day_ends && exp > claims["iat"].as_i64().unwrap(), "stands until the next validation");

    // A changed byte of the payload (say, more users) no longer verifies.
    let parts: Vec<&str> = license.split('.').collect();
    let mut payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["users"] = 50.into();
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2]);
    assert!(verify(&forged, &keys).is_err(), "a forged answer is refused");
    // A replay is told by its nonce: the program checks the one it sent.
    let other = call(&app, validation(sub.serial.as_str(), COMPANY, "n-43", "203.0.113.10")).await;
    let other = verify(json_of(&other)["license"].as_str().unwrap(), &keys).unwrap();
    assert_ne!(other["nonce"], claims["nonce"]);
}

/// The answer of the real function, checked by the verifier the desktop programs embed and
/// by an independent JOSE library (Python's joserfc, `scripts/jose_check.py`).
#[tokio::test]
async fn the_embeddable_verifier_and_another_jose_library_accept_the_real_answer() {
    let (env, app, ana) = world().await;
    let sub = env.add_serial(&ana, "SAE", "8.0", Plan::Subscription, Some(20)).await;
    let answer = json_of(&call(&app, validation(sub.serial.as_str(), COMPANY, "n-7", "203.0.113.10")).await);
    let license = answer["license"].as_str().unwrap();
    let jwks = serde_json::to_string(&jwks(&app).await).unwrap();
    let expect = |nonce: &str| serial_verifier::Expect {
        serial: Some(sub.serial.to_string()),
        nonce: Some(nonce.into()),
        installation: None,
    };
    let facts =
        serial_verifier::verify(license, &jwks, &expect("n-7"), std::time::SystemTime::now()).expect("verifies");
    assert_eq!((facts.serial.as_str(), facts.users), (sub.serial.as_str(), 1));
    let wrong = serial_verifier::verify(license, &jwks, &expect("n-8"), std::time::SystemTime::now());
    assert!(matches!(wrong, Err(serial_verifier::Refusal::WrongNonce { .. })), "{wrong:?}");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(31 * 24 * 3600);
    let expired = serial_verifier::verify(license, &jwks, &expect("n-7"), later);
    assert!(matches!(expired, Err(serial_verifier::Refusal::Expired { .. })), "{expired:?}");

    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join(".tools/venv/bin/python");
    if !python.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has the tools venv");
        eprintln!("skipped the joserfc check: no .tools/venv (run scripts/tools.sh)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("jose-{}", env.tag));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("jwks.json"), &jwks).unwrap();
    let check = |license: &str| {
        std::process::Command::new(&python)
            .arg(root.join("scripts/jose_check.py"))
            .arg("--jwks")
            .arg(dir.join("jwks.json"))
            .arg(license)
            .output()
            .expect("run jose_check.py")
    };
    let out = check(license);
    assert!(out.status.success(), "joserfc refused: {}", String::from_utf8_lossy(&out.stderr));
    let payload: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(payload["serial"], sub.serial.as_str());
    // A character inside the signature (the last one also carries padding bits).
    let mut tampered: Vec<char> = license.chars().collect();
    let i = tampered.len() - 10;
    tampered[i] = if tampered[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    assert!(!check(&tampered).status.success(), "joserfc refuses a changed signature");
}

#[tokio::test]
async fn answers_signed_before_a_rotation_still_verify_and_new_ones_use_the_new_key() {
    let (env, app, ana) = world().await;
    let sub = env.add_serial(&ana, "SAE", "8.0", Plan::Subscription, Some(20)).await;
    let before = json_of(&call(&app, validation(sub.serial.as_str(), COMPANY, "a", "203.0.113.10")).await);
    let new_kid = env.rotate_keys().await;
    // A new instance reads the ring as it is now.
    let fresh = App::build(env.base());
    let after = json_of(&call(&fresh, validation(sub.serial.as_str(), COMPANY, "b", "203.0.113.10")).await);
    let keys = jwks(&fresh).await;
    assert_eq!(keys.keys.len(), 2, "the retired key is still published");
    let after_license = after["license"].as_str().unwrap();
    assert_eq!(decode_header(after_license).unwrap().kid.as_deref(), Some(new_kid.as_str()));
    assert!(verify(before["license"].as_str().unwrap(), &keys).is_ok(), "an old answer still verifies");
    assert!(verify(after_license, &keys).is_ok());
    // With only a key set that lacks the signer, nothing verifies.
    let mut stranger = keys.clone();
    stranger.keys.retain(|k| k.common.key_id.as_deref() != Some(new_kid.as_str()));
    assert_eq!(verify(after_license, &stranger), Err("unknown key".into()));
}

#[tokio::test]
async fn an_eleventh_wrong_company_in_an_hour_is_refused_for_that_address_only() {
    let (env, app, ana) = world().await;
    let sub = env.add_serial(&ana, "SAE", "8.0", Plan::Subscription, Some(20)).await;
    let guesser = "198.51.100.23";
    for i in 0..MAX_COMPANY_MISMATCHES {
        let res = call(&app, validation(sub.serial.as_str(), &format!("Empresa {i}"), "x", guesser)).await;
        assert_eq!(res.status(), 403, "guess {i}");
    }
    let res = call(&app, validation(sub.serial.as_str(), "Empresa 11", "x", guesser)).await;
    assert_eq!((res.status().as_u16(), json_of(&res)["code"].as_str()), (429, Some("too_many_attempts")));
    assert!(res.headers().contains_key("retry-after"));
    // Even the right company, from that address, waits for the hour to pass...
    let res = call(&app, validation(sub.serial.as_str(), COMPANY, "x", guesser)).await;
    assert_eq!(res.status(), 429);
    // ...while the real installation, elsewhere, validates as usual.
    let res = call(&app, validation(sub.serial.as_str(), COMPANY, "x", "203.0.113.10")).await;
    assert_eq!(res.status(), 200, "{}", json_of(&res));
}
