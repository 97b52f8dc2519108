//! The signing keys, as kept in AWS (one Secrets Manager secret, JSON): the key that signs
//! now and the retired ones still published, so answers they signed verify until they
//! expire. Read once per instance; `portal-admin keys rotate` adds a key and makes it the
//! signer.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::{LicenseClaims, MAX_VALIDITY_DAYS};

/// A retired key stays published this long: longer than any answer it signed stands.
pub const RETIRED_KEY_DAYS: i64 = MAX_VALIDITY_DAYS + 1;

/// The PKCS#8 (RFC 8410) prefix of an Ed25519 private key: what follows is its 32-byte seed.
const PKCS8_ED25519_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

#[derive(Debug, thiserror::Error)]
pub enum LicenseKeyError {
    #[error("the signing keys are malformed: {0}")]
    Malformed(String),
    #[error("no signing key {0} in the key ring")]
    NoSigner(String),
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("no randomness for a new key")]
    Random,
}

/// One Ed25519 key: its id, its seed (base64url; the secret) and its dates.
#[derive(Clone, Serialize, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    seed: String,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("created_at", &self.created_at).finish()
    }
}

impl SigningKey {
    pub fn generate(now: DateTime<Utc>) -> Result<Self, LicenseKeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|_| LicenseKeyError::Random)?;
        let mut tag = [0u8; 4];
        getrandom::fill(&mut tag).map_err(|_| LicenseKeyError::Random)?;
        let kid = format!("{}-{}", now.format("%Y%m%d"), tag.iter().map(|b| format!("{b:02x}")).collect::<String>());
        Ok(SigningKey { kid, seed: URL_SAFE_NO_PAD.encode(seed), created_at: now, retired_at: None })
    }

    fn encoding_key(&self) -> Result<EncodingKey, LicenseKeyError> {
        let seed = URL_SAFE_NO_PAD.decode(&self.seed).map_err(|e| LicenseKeyError::Malformed(e.to_string()))?;
        if seed.len() != 32 {
            return Err(LicenseKeyError::Malformed(format!("key {} is not an Ed25519 seed", self.kid)));
        }
        let der: Vec<u8> = PKCS8_ED25519_PREFIX.iter().chain(&seed).copied().collect();
        Ok(EncodingKey::from_ed_der(&der))
    }

    /// The public key as a JWK (RFC 8037: OKP, Ed25519).
    fn jwk(&self) -> Result<Jwk, LicenseKeyError> {
        let mut jwk = Jwk::from_encoding_key(&self.encoding_key()?, Algorithm::EdDSA)
            .map_err(|e| LicenseKeyError::Malformed(e.to_string()))?;
        jwk.common.key_id = Some(self.kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::EdDSA);
        Ok(jwk)
    }
}

/// Every key kept, and which one signs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRing {
    pub signer: String,
    pub keys: Vec<SigningKey>,
}

impl KeyRing {
    /// A ring of one new key.
    pub fn new(now: DateTime<Utc>) -> Result<Self, LicenseKeyError> {
        let key = SigningKey::generate(now)?;
        Ok(KeyRing { signer: key.kid.clone(), keys: vec![key] })
    }

    pub fn parse(json: &str) -> Result<Self, LicenseKeyError> {
        let ring: KeyRing = serde_json::from_str(json).map_err(|e| LicenseKeyError::Malformed(e.to_string()))?;
        ring.signing_key()?.encoding_key()?;
        Ok(ring)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn signing_key(&self) -> Result<&SigningKey, LicenseKeyError> {
        self.keys.iter().find(|k| k.kid == self.signer).ok_or_else(|| LicenseKeyError::NoSigner(self.signer.clone()))
    }

    /// Adds a key and makes it the signer; the old signer is retired (still published),
    /// and keys retired longer than [`RETIRED_KEY_DAYS`] ago are dropped. Returns the new kid.
    pub fn rotate(&mut self, now: DateTime<Utc>) -> Result<String, LicenseKeyError> {
        let new = SigningKey::generate(now)?;
        for key in &mut self.keys {
            if key.retired_at.is_none() {
                key.retired_at = Some(now);
            }
        }
        self.keys.retain(|k| k.retired_at.is_none_or(|at| now - at < Duration::days(RETIRED_KEY_DAYS)));
        self.signer = new.kid.clone();
        self.keys.push(new);
        Ok(self.signer.clone())
    }

    /// The compact JWS of `claims`, signed by the signer, its `kid` in the header.
    pub fn sign(&self, claims: &LicenseClaims) -> Result<String, LicenseKeyError> {
        let key = self.signing_key()?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding_key()?).map_err(|e| LicenseKeyError::Sign(e.to_string()))
    }

    /// The public keys in force and the retired ones still published (RFC 7517).
    pub fn jwks(&self) -> Result<JwkSet, LicenseKeyError> {
        Ok(JwkSet { keys: self.keys.iter().map(SigningKey::jwk).collect::<Result<_, _>>()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};

    fn claims(now: DateTime<Utc>) -> LicenseClaims {
        LicenseClaims {
            iss: super::super::ISSUER,
            serial: "SKSNWR4TQ7".into(),
            system: "SAE".into(),
            version: "8.0".into(),
            users: 1,
            status: crate::domain::SerialStatus::Active,
            valid_until: None,
            next_payment_on: None,
            company: "Comercial Ruiz".into(),
            nonce: Some("abc".into()),
            installation: None,
            iat: now.timestamp(),
            exp: (now + Duration::days(1)).timestamp(),
        }
    }

    fn verifies(jws: &str, jwks: &JwkSet) -> bool {
        let kid = decode_header(jws).unwrap().kid.unwrap();
        let Some(jwk) = jwks.find(&kid) else { return false };
        let mut v = Validation::new(Algorithm::EdDSA);
        v.set_issuer(&["serial-portal"]);
        v.set_required_spec_claims(&["exp", "iss"]);
        decode::<serde_json::Value>(jws, &DecodingKey::from_jwk(jwk).unwrap(), &v).is_ok()
    }

    #[test]
    fn a_signed_license_verifies_with_the_published_keys_across_a_rotation() {
        let now = Utc::now();
        let mut ring = KeyRing::new(now).unwrap();
        let first = ring.sign(&claims(now)).unwrap();
        assert!(verifies(&first, &ring.jwks().unwrap()));
        let old_kid = ring.signer.clone();
        let new_kid = ring.rotate(now).unwrap();
        assert_ne!(old_kid, new_kid);
        let second = ring.sign(&claims(now)).unwrap();
        assert_eq!(decode_header(&second).unwrap().kid.as_deref(), Some(new_kid.as_str()));
        let jwks = ring.jwks().unwrap();
        assert!(verifies(&first, &jwks) && verifies(&second, &jwks), "the retired key is still published");
        // A month and a day later the retired key goes at the next rotation.
        ring.rotate(now + Duration::days(RETIRED_KEY_DAYS)).unwrap();
        assert!(ring.jwks().unwrap().find(&old_kid).is_none());
        assert!(!verifies(&first, &ring.jwks().unwrap()));
        // A round trip through the secret's JSON keeps it all.
        let back = KeyRing::parse(&ring.to_json()).unwrap();
        assert_eq!(back.signer, ring.signer);
        assert!(!format!("{back:?}").contains(&ring.keys[0].seed), "Debug never shows a seed");
    }

    #[test]
    fn a_tampered_license_does_not_verify() {
        let now = Utc::now();
        let ring = KeyRing::new(now).unwrap();
        let jws = ring.sign(&claims(now)).unwrap();
        let mut parts: Vec<String> = jws.split('.').map(str::to_string).collect();
        let mut payload = URL_SAFE_NO_PAD.decode(&parts[1]).unwrap();
        let i = payload.iter().position(|b| *b == b'1').unwrap();
        payload[i] = b'9'; // users 1 -> 9
        parts[1] = URL_SAFE_NO_PAD.encode(payload);
        assert!(!verifies(&parts.join("."), &ring.jwks().unwrap()));
        assert!(KeyRing::parse("{}").is_err() && KeyRing::parse(r#"{"signer":"x","keys":[]}"#).is_err());
    }
}
