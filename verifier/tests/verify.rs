//! The library against licenses signed here with jsonwebtoken (EdDSA, Ed25519).

mod common;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{jwks, now, offline_payload, payload, tamper, Key, NOW};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use serial_verifier::{verify, Date, Expect, Jwks, Refusal, Status, CLOCK_SKEW_SECS};

fn online_expect() -> Expect {
    Expect { serial: Some("SKSNWR4TQD".into()), nonce: Some("n-0123456789".into()), installation: None }
}

#[test]
fn a_good_answer_verifies_and_gives_its_facts() {
    let key = Key::new("2026-03");
    let facts = verify(&key.sign(&payload()), &jwks(&[&key]), &online_expect(), now()).unwrap();
    assert_eq!(facts.serial, "SKSNWR4TQD");
    assert_eq!(facts.system, "SAE");
    assert_eq!(facts.version, "7.0");
    assert_eq!(facts.users, 3);
    assert_eq!(facts.status, Status::Active);
    assert_eq!(facts.valid_until, None);
    assert_eq!(facts.next_payment_on, Some(Date::new(2026, 3, 15).unwrap()));
    assert_eq!(facts.company, "Comercial Ruiz SA de CV");
    assert_eq!(facts.nonce.as_deref(), Some("n-0123456789"));
    assert_eq!(facts.installation, None);
    assert_eq!((facts.iat, facts.exp), (NOW - 5, NOW + 86_400));
    assert_eq!(facts.kid, "2026-03");
}

#[test]
fn nothing_expected_checks_only_signature_issuer_and_time() {
    let key = Key::new("k");
    assert!(verify(&key.sign(&payload()), &jwks(&[&key]), &Expect::default(), now()).is_ok());
}

#[test]
fn an_offline_license_file_verifies_for_its_installation() {
    let key = Key::new("k");
    let jws = key.sign(&offline_payload());
    let expect = Expect { serial: Some("sksn-wr4t-qd".into()), nonce: None, installation: Some("inst-7f3a".into()) };
    let facts = verify(&jws, &jwks(&[&key]), &expect, now()).unwrap();
    assert_eq!(facts.installation.as_deref(), Some("inst-7f3a"));
    assert_eq!(facts.nonce, None);
}

#[test]
fn every_status_and_both_dates_are_read() {
    let key = Key::new("k");
    for (status, want) in [
        ("active", Status::Active),
        ("expired", Status::Expired),
        ("superseded", Status::Superseded),
        ("inactive", Status::Inactive),
    ] {
        let mut p = payload();
        p["status"] = json!(status);
        p["valid_until"] = json!("2026-06-30");
        let facts = verify(&key.sign(&p), &jwks(&[&key]), &online_expect(), now()).unwrap();
        assert_eq!(facts.status, want);
        assert_eq!(facts.valid_until, Some(Date::new(2026, 6, 30).unwrap()));
    }
}

#[test]
fn a_changed_byte_in_payload_or_signature_is_a_bad_signature() {
    let key = Key::new("k");
    let set = jwks(&[&key]);
    let jws = key.sign(&payload());
    for part in [1, 2] {
        let changed = tamper(&jws, part);
        assert_ne!(changed, jws);
        let refusal = verify(&changed, &set, &online_expect(), now()).unwrap_err();
        assert_eq!(refusal, Refusal::BadSignature { kid: "k".into() }, "part {part}");
    }
}

#[test]
fn a_payload_rewritten_under_the_old_signature_is_a_bad_signature() {
    let key = Key::new("k");
    let jws = key.sign(&payload());
    let parts: Vec<&str> = jws.split('.').collect();
    let mut p = payload();
    p["users"] = json!(500);
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(p.to_string()), parts[2]);
    let refusal = verify(&forged, &jwks(&[&key]), &online_expect(), now()).unwrap_err();
    assert_eq!(refusal.code(), "bad_signature");
}

#[test]
fn a_kid_not_in_the_jwks_is_an_unknown_key() {
    let key = Key::new("k");
    let stranger = Key::new("stranger");
    let refusal = verify(&stranger.sign(&payload()), &jwks(&[&key]), &online_expect(), now()).unwrap_err();
    assert_eq!(refusal, Refusal::UnknownKey { kid: "stranger".into() });
}

#[test]
fn another_key_under_a_known_kid_is_a_bad_signature() {
    let key = Key::new("k");
    let impostor = Key::new("impostor");
    let jws = impostor.sign_as("k", &payload());
    let refusal = verify(&jws, &jwks(&[&key]), &online_expect(), now()).unwrap_err();
    assert_eq!(refusal.code(), "bad_signature");
}

#[test]
fn expired_past_exp_plus_the_clock_skew() {
    let key = Key::new("k");
    let set = jwks(&[&key]);
    let mut p = payload();
    p["exp"] = json!(NOW - CLOCK_SKEW_SECS);
    let refusal = verify(&key.sign(&p), &set, &online_expect(), now()).unwrap_err();
    assert_eq!(refusal, Refusal::Expired { exp: NOW - CLOCK_SKEW_SECS, now: NOW });
    // Within the skew it still verifies; a day later the same answer is refused.
    p["exp"] = json!(NOW - CLOCK_SKEW_SECS + 1);
    assert!(verify(&key.sign(&p), &set, &online_expect(), now()).is_ok());
    let good = key.sign(&payload());
    let refusal = verify(&good, &set, &online_expect(), now() + Duration::from_secs(86_400 + 60)).unwrap_err();
    assert_eq!(refusal.code(), "expired");
}

#[test]
fn a_wrong_nonce_is_refused() {
    let key = Key::new("k");
    let set = jwks(&[&key]);
    let expect = Expect { nonce: Some("another".into()), ..online_expect() };
    let refusal = verify(&key.sign(&payload()), &set, &expect, now()).unwrap_err();
    assert_eq!(refusal, Refusal::WrongNonce { expected: "another".into(), found: Some("n-0123456789".into()) });
    // A license file has no nonce: expecting one refuses it too.
    let refusal = verify(&key.sign(&offline_payload()), &set, &expect, now()).unwrap_err();
    assert_eq!(refusal, Refusal::WrongNonce { expected: "another".into(), found: None });
}

#[test]
fn a_wrong_serial_is_refused() {
    let key = Key::new("k");
    let expect = Expect { serial: Some("0000000000".into()), ..online_expect() };
    let refusal = verify(&key.sign(&payload()), &jwks(&[&key]), &expect, now()).unwrap_err();
    assert_eq!(refusal, Refusal::WrongSerial { expected: "0000000000".into(), found: "SKSNWR4TQD".into() });
}

#[test]
fn a_wrong_installation_is_refused() {
    let key = Key::new("k");
    let set = jwks(&[&key]);
    let expect = Expect { installation: Some("inst-other".into()), ..Expect::default() };
    let refusal = verify(&key.sign(&offline_payload()), &set, &expect, now()).unwrap_err();
    assert_eq!(refusal, Refusal::WrongInstallation { expected: "inst-other".into(), found: Some("inst-7f3a".into()) });
    // An online answer names no installation: not a license file for this one.
    let refusal = verify(&key.sign(&payload()), &set, &expect, now()).unwrap_err();
    assert_eq!(refusal.code(), "wrong_installation");
}

#[test]
fn another_issuer_is_refused() {
    let key = Key::new("k");
    let mut p = payload();
    p["iss"] = json!("someone-else");
    let refusal = verify(&key.sign(&p), &jwks(&[&key]), &online_expect(), now()).unwrap_err();
    assert_eq!(refusal, Refusal::NotFromIssuer { iss: "someone-else".into() });
}

#[test]
fn a_jwks_with_two_keys_verifies_answers_of_either() {
    let old = Key::new("2026-01");
    let new = Key::new("2026-03");
    let set = jwks(&[&old, &new]);
    for key in [&old, &new] {
        let facts = verify(&key.sign(&payload()), &set, &online_expect(), now()).unwrap();
        assert_eq!(facts.kid, key.kid);
    }
    // Parsed once, used many times.
    let parsed = Jwks::parse(&set).unwrap();
    assert_eq!(parsed.kids().collect::<Vec<_>>(), ["2026-01", "2026-03"]);
    assert!(parsed.verify(&old.sign(&payload()), &online_expect(), now()).is_ok());
    // Once the old key is retired, its answers are from an unknown key.
    let refusal = verify(&old.sign(&payload()), &jwks(&[&new]), &online_expect(), now()).unwrap_err();
    assert_eq!(refusal.code(), "unknown_key");
}

#[test]
fn only_eddsa_is_accepted() {
    let key = Key::new("k");
    let set = jwks(&[&key]);
    // The key's public bytes as an HMAC secret (the classic algorithm confusion).
    let x = key.jwk()["x"].as_str().unwrap().to_string();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k".into());
    let hs = jsonwebtoken::encode(&header, &payload(), &EncodingKey::from_secret(x.as_bytes()).unwrap()).unwrap();
    assert_eq!(verify(&hs, &set, &online_expect(), now()).unwrap_err().code(), "malformed");
    // alg "none", unsigned.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k"}"#),
        URL_SAFE_NO_PAD.encode(payload().to_string())
    );
    assert_eq!(verify(&none, &set, &online_expect(), now()).unwrap_err().code(), "malformed");
}

#[test]
fn malformed_licenses_are_refused_as_malformed() {
    let key = Key::new("k");
    let set = jwks(&[&key]);
    let good = key.sign(&payload());
    let (h, rest) = good.split_once('.').unwrap();
    let no_kid = {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = None;
        let jws = key.sign(&payload());
        let (_, rest) = jws.split_once('.').unwrap();
        format!("{}.{rest}", URL_SAFE_NO_PAD.encode(serde_json::to_string(&header).unwrap()))
    };
    for bad in [String::new(), "abc".into(), format!("{h}.{rest}.x"), format!("{h}..sig"), "!!.??.**".into(), no_kid] {
        assert_eq!(verify(&bad, &set, &online_expect(), now()).unwrap_err().code(), "malformed", "{bad:?}");
    }
    // Signed, but a payload without a field, or a field of the wrong type.
    let field_missing = |name: &str| {
        let mut p = payload();
        p.as_object_mut().unwrap().remove(name);
        p
    };
    for p in [
        field_missing("serial"),
        field_missing("exp"),
        field_missing("company"),
        json!({"iss": "serial-portal"}),
        Value::Array(vec![]),
        {
            let mut p = payload();
            p["status"] = json!("paused");
            p
        },
        {
            let mut p = payload();
            p["valid_until"] = json!("2026-02-30");
            p
        },
        {
            let mut p = payload();
            p["users"] = json!("3");
            p
        },
    ] {
        let refusal = verify(&key.sign(&p), &set, &online_expect(), now()).unwrap_err();
        assert_eq!(refusal.code(), "malformed", "{p}");
    }
}

#[test]
fn null_and_absent_optional_fields_are_alike() {
    let key = Key::new("k");
    let mut p = payload();
    let o = p.as_object_mut().unwrap();
    o.remove("valid_until");
    o.remove("next_payment_on");
    o.insert("unknown_future_field".into(), json!({"any": 1}));
    let facts = verify(&key.sign(&p), &jwks(&[&key]), &Expect::default(), now()).unwrap();
    assert_eq!((facts.valid_until, facts.next_payment_on), (None, None));
}

#[test]
fn a_broken_jwks_or_key_is_the_jwks_fault() {
    let key = Key::new("k");
    let jws = key.sign(&payload());
    for set in ["", "{}", r#"{"keys":{}}"#] {
        assert_eq!(verify(&jws, set, &online_expect(), now()).unwrap_err().code(), "bad_jwks", "{set:?}");
    }
    let mut short = key.jwk();
    short["x"] = json!("AAAA");
    let mut wrong_use = key.jwk();
    wrong_use["use"] = json!("enc");
    let mut wrong_crv = key.jwk();
    wrong_crv["crv"] = json!("X25519");
    for jwk in [short, wrong_use, wrong_crv] {
        let set = json!({ "keys": [jwk] }).to_string();
        assert_eq!(verify(&jws, &set, &online_expect(), now()).unwrap_err().code(), "bad_jwks", "{set}");
    }
    // Keys of other kinds beside ours are no obstacle.
    let set = json!({ "keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa"}, key.jwk()] }).to_string();
    assert!(verify(&jws, &set, &online_expect(), now()).is_ok());
}
