//! The key ring read from Secrets Manager on first use and again every few minutes, so a
//! rotation reaches every instance (and the JWKS they serve) within minutes, and a
//! request never waits on Secrets Manager but the first of an instance.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::RwLock;

use super::KeyRing;

/// How often an instance reads the key ring again.
pub const KEY_REFRESH: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum KeySourceError {
    /// Secrets Manager did not answer (or refused); worth a retry.
    #[error("the signing keys could not be read: {0}")]
    Unavailable(String),
    /// The secret holds no usable key ring (not created yet: `portal-admin keys rotate`).
    #[error("the signing keys are not usable: {0}")]
    Unusable(String),
}

pub struct KeySource {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    ring: RwLock<Option<(Arc<KeyRing>, Instant)>>,
}

impl KeySource {
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        KeySource { client, secret_id: secret_id.into(), ring: RwLock::new(None) }
    }

    /// The key ring; read again once [`KEY_REFRESH`] old. A failed refresh keeps the one
    /// read before.
    pub async fn ring(&self) -> Result<Arc<KeyRing>, KeySourceError> {
        if let Some((ring, at)) = self.ring.read().await.as_ref() {
            if at.elapsed() < KEY_REFRESH {
                return Ok(ring.clone());
            }
        }
        let mut guard = self.ring.write().await;
        if let Some((ring, at)) = guard.as_ref() {
            if at.elapsed() < KEY_REFRESH {
                return Ok(ring.clone());
            }
        }
        match read(&self.client, &self.secret_id).await {
            Ok(ring) => {
                let ring = Arc::new(ring);
                *guard = Some((ring.clone(), Instant::now()));
                Ok(ring)
            }
            Err(e) => match guard.as_mut() {
                Some((ring, at)) => {
                    tracing::warn!(error = %e, "signing keys not refreshed; keeping the ones read before");
                    *at = Instant::now();
                    Ok(ring.clone())
                }
                None => Err(e),
            },
        }
    }
}

/// The key ring stored in `secret_id`, or `None` if the secret does not exist yet.
pub async fn read_ring(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<Option<KeyRing>, KeySourceError> {
    use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
    match client.get_secret_value().secret_id(secret_id).send().await {
        Ok(out) => {
            let text = out.secret_string.unwrap_or_default();
            KeyRing::parse(&text).map(Some).map_err(|e| KeySourceError::Unusable(e.to_string()))
        }
        Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(KeySourceError::Unavailable(e.code().unwrap_or("no answer").to_string())),
    }
}

async fn read(client: &aws_sdk_secretsmanager::Client, secret_id: &str) -> Result<KeyRing, KeySourceError> {
    read_ring(client, secret_id).await?.ok_or_else(|| KeySourceError::Unusable(format!("no secret {secret_id}")))
}

/// Stores `ring` in `secret_id`, creating the secret the first time.
pub async fn write_ring(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    ring: &KeyRing,
) -> Result<(), KeySourceError> {
    use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
    let fail = |e: &dyn ProvideErrorMetadata| KeySourceError::Unavailable(e.code().unwrap_or("no answer").to_string());
    match client.put_secret_value().secret_id(secret_id).secret_string(ring.to_json()).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ResourceNotFoundException") => {
            client.create_secret().name(secret_id).secret_string(ring.to_json()).send().await.map_err(|e| fail(&e))?;
            Ok(())
        }
        Err(e) => Err(fail(&e)),
    }
}
