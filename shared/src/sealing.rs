//! Secrets kept in the table encrypted (the TOTP secrets): AES-256-GCM under a data key
//! that lives in AWS Secrets Manager, not in the table, the code or the environment. A
//! copy of the table (a backup, an export, a read-only role) holds no usable secret.
//!
//! The data key is HKDF-SHA-256 of the secret's text (the stack makes it random, 64
//! characters); each value gets a random 96-bit nonce, and the account it belongs to is
//! bound in as associated data, so a sealed value copied onto another account does not
//! open. ring (already linked for TLS) does the cryptography.

use std::fmt;

use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf::{Salt, HKDF_SHA256};
use tokio::sync::OnceCell;

/// The prefix of every sealed value: the scheme, so another can follow it.
const SCHEME: &str = "v1.";
/// The secret's text must be at least this long (the stack's has 64 characters).
pub const MIN_SECRET_CHARS: usize = 32;
const SALT: &[u8] = b"serial-portal data key";
const INFO: &[u8] = b"aes-256-gcm totp secrets v1";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// Secrets Manager did not answer (or refused); worth a retry.
    #[error("the data key could not be read: {0}")]
    Unavailable(String),
    /// The secret is missing or too short to be a key.
    #[error("the data key is not usable: {0}")]
    Unusable(String),
    /// A sealed value that this key does not open (corrupt, another key, another account).
    #[error("a sealed value does not open")]
    Corrupt,
    #[error("sealing failed")]
    Failed,
}

/// The data key. Its `Debug` never shows it.
pub struct DataKey(LessSafeKey);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// The key derived from the secret's text.
    pub fn from_secret(text: &str) -> Result<Self, SealError> {
        let text = text.trim();
        if text.chars().count() < MIN_SECRET_CHARS {
            return Err(SealError::Unusable(format!("the secret has fewer than {MIN_SECRET_CHARS} characters")));
        }
        let prk = Salt::new(HKDF_SHA256, SALT).extract(text.as_bytes());
        let key = prk.expand(&[INFO], &AES_256_GCM).map(UnboundKey::from).map_err(|_| SealError::Failed)?;
        Ok(DataKey(LessSafeKey::new(key)))
    }

    /// `plain` sealed for `context` (the account it belongs to): text to store.
    pub fn seal(&self, plain: &[u8], context: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SealError::Failed)?;
        let mut data = plain.to_vec();
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| SealError::Failed)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!("{SCHEME}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)))
    }

    /// The plain bytes of a value sealed for `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SealError> {
        let encoded = sealed.strip_prefix(SCHEME).ok_or(SealError::Corrupt)?;
        let mut raw =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).map_err(|_| SealError::Corrupt)?;
        if raw.len() < NONCE_LEN {
            return Err(SealError::Corrupt);
        }
        let mut data = raw.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&raw).map_err(|_| SealError::Corrupt)?;
        let plain =
            self.0.open_in_place(nonce, Aad::from(context.as_bytes()), &mut data).map_err(|_| SealError::Corrupt)?;
        Ok(plain.to_vec())
    }
}

/// The data key, read from Secrets Manager on first use and kept for the instance's life
/// (a request never waits on Secrets Manager but the first that needs the key). A failed
/// read is not kept: the next request tries again.
pub struct DataKeySource {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    key: OnceCell<DataKey>,
}

impl DataKeySource {
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        DataKeySource { client, secret_id: secret_id.into(), key: OnceCell::new() }
    }

    pub async fn key(&self) -> Result<&DataKey, SealError> {
        self.key.get_or_try_init(|| read(&self.client, &self.secret_id)).await
    }
}

async fn read(client: &aws_sdk_secretsmanager::Client, secret_id: &str) -> Result<DataKey, SealError> {
    use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
    match client.get_secret_value().secret_id(secret_id).send().await {
        Ok(out) => DataKey::from_secret(out.secret_string().unwrap_or_default()),
        Err(e) if e.code() == Some("ResourceNotFoundException") => {
            Err(SealError::Unusable(format!("no secret {secret_id}")))
        }
        Err(e) => Err(SealError::Unavailable(e.code().unwrap_or("no answer").to_string())),
    }
}

/// A fresh random secret text for a data key (local stacks and tests; the stack's own is
/// made by CloudFormation).
pub fn random_secret_text() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_context() {
        let key = DataKey::from_secret(&random_secret_text().unwrap()).unwrap();
        let sealed = key.seal(b"twenty bytes secret!", "account-a").unwrap();
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("twenty"));
        assert_eq!(key.open(&sealed, "account-a").unwrap(), b"twenty bytes secret!");
        assert_ne!(sealed, key.seal(b"twenty bytes secret!", "account-a").unwrap(), "a nonce per value");
        assert_eq!(key.open(&sealed, "account-b"), Err(SealError::Corrupt), "bound to its account");
        let other = DataKey::from_secret(&random_secret_text().unwrap()).unwrap();
        assert_eq!(other.open(&sealed, "account-a"), Err(SealError::Corrupt), "another key");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(key.open(std::str::from_utf8(&tampered).unwrap(), "account-a"), Err(SealError::Corrupt));
        for bad in ["", "v1.", "v2.abc", "v1.!!!"] {
            assert_eq!(key.open(bad, "account-a"), Err(SealError::Corrupt), "{bad}");
        }
        assert_eq!(format!("{key:?}"), "DataKey(..)");
    }

    #[test]
    fn the_same_secret_text_gives_the_same_key_and_a_short_one_none() {
        let text = random_secret_text().unwrap();
        let sealed = DataKey::from_secret(&text).unwrap().seal(b"x", "c").unwrap();
        assert_eq!(DataKey::from_secret(&format!(" {text}\n")).unwrap().open(&sealed, "c").unwrap(), b"x");
        assert!(matches!(DataKey::from_secret("short"), Err(SealError::Unusable(_))));
    }
}
