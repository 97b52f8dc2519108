//! The product catalog, read on first use (nothing at cold start but building clients)
//! and refreshed at most every [`REFRESH`] (a vendor publishing a new version sees it
//! offered within minutes), never per request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::RwLock;

use crate::domain::Catalog;
use crate::store::{CatalogReader, StoreResult};

pub const REFRESH: Duration = Duration::from_secs(300);

#[derive(Default)]
pub struct CatalogCache {
    inner: RwLock<Option<(Arc<Catalog>, Instant)>>,
}

impl CatalogCache {
    /// The catalog; reloads it when stale. A failed reload keeps the loaded one.
    pub async fn get(&self, store: &impl CatalogReader) -> StoreResult<Arc<Catalog>> {
        if let Some((catalog, at)) = self.inner.read().await.as_ref() {
            if at.elapsed() < REFRESH {
                return Ok(catalog.clone());
            }
        }
        let mut guard = self.inner.write().await;
        if let Some((catalog, at)) = guard.as_ref() {
            if at.elapsed() < REFRESH {
                return Ok(catalog.clone());
            }
        }
        match store.products().await {
            Ok(products) => {
                let catalog = Arc::new(Catalog::new(products));
                *guard = Some((catalog.clone(), Instant::now()));
                Ok(catalog)
            }
            Err(e) => match guard.as_mut() {
                Some((catalog, at)) => {
                    tracing::warn!(error = %e, "catalog refresh failed; keeping the loaded one");
                    *at = Instant::now();
                    Ok(catalog.clone())
                }
                None => Err(e),
            },
        }
    }
}
