//! Test keys, signed licenses and JWKS, made here: the signer side of the format.
#![allow(dead_code)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// "Now" in the tests: 2026-03-01T00:00:00Z.
pub const NOW: u64 = 1_772_323_200;

pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

pub struct Key {
    pub kid: String,
    signing: SigningKey,
}

impl Key {
    /// A fresh Ed25519 key from the operating system's CSPRNG.
    pub fn new(kid: &str) -> Key {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("OS random");
        Key { kid: kid.to_string(), signing: SigningKey::from_bytes(&seed) }
    }

    /// The public key as a JWK, as `/.well-known/jwks.json` lists it.
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.signing.verifying_key().to_bytes()),
            "kid": self.kid,
            "use": "sig",
            "alg": "EdDSA",
        })
    }

    /// The payload signed with this key, header `{"alg":"EdDSA","typ":"JWT","kid":...}`.
    pub fn sign(&self, payload: &Value) -> String {
        self.sign_as(&self.kid, payload)
    }

    /// Signed with this key but naming `kid` in the header.
    pub fn sign_as(&self, kid: &str, payload: &Value) -> String {
        let der = self.signing.to_pkcs8_der().expect("PKCS#8");
        let key = EncodingKey::from_ed_der(der.as_bytes());
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_string());
        jsonwebtoken::encode(&header, payload, &key).expect("sign")
    }
}

pub fn jwks(keys: &[&Key]) -> String {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() }).to_string()
}

/// An online validation answer's payload, valid for a day from NOW.
pub fn payload() -> Value {
    json!({
        "iss": "serial-portal",
        "serial": "SKSNWR4TQD",
        "system": "SAE",
        "version": "7.0",
        "users": 3,
        "status": "active",
        "valid_until": null,
        "next_payment_on": "2026-03-15",
        "company": "Comercial Ruiz SA de CV",
        "nonce": "n-0123456789",
        "iat": NOW - 5,
        "exp": NOW + 86_400,
    })
}

/// An offline license file's payload: no nonce, bound to an installation.
pub fn offline_payload() -> Value {
    let mut p = payload();
    p["nonce"] = Value::Null;
    p["installation"] = json!("inst-7f3a");
    p["exp"] = json!(NOW + 365 * 86_400);
    p
}

/// The JWS with one base64url character of part `part` (0 header, 1 payload, 2 signature)
/// changed, in its middle (so it stays valid base64url).
pub fn tamper(jws: &str, part: usize) -> String {
    let mut parts: Vec<String> = jws.split('.').map(str::to_string).collect();
    let p = &mut parts[part];
    let i = p.len() / 2;
    let c = p.as_bytes()[i];
    let replacement = if c == b'A' { "B" } else { "A" };
    p.replace_range(i..i + 1, replacement);
    parts.join(".")
}
