//! The product catalog, read once per cold start and refreshed at most every [`REFRESH`]
//! (a vendor publishing a new version sees it offered within minutes), never per request.

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
    /// Loads the catalog at cold start. If the store is unreachable now, the first request
    /// tries again (and answers 503 if it still cannot), instead of the function dying.
    pub async fn load(store: &impl CatalogReader) -> Self {
        let cache = CatalogCache::default();
        if let Err(e) = cache.get(store).await {
            tracing::warn!(error = %e, "catalog not loaded at start; the first request will retry");
        }
        cache
    }

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
