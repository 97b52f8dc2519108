//! Counts the DynamoDB calls a test's store makes, and how many of them the caller waited
//! for in sequence (round trips): an SDK interceptor, installed on the test's client only,
//! over an HTTP client that makes every call wait at least once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::config::interceptors::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;

#[derive(Debug, Default)]
struct Counts {
    calls: AtomicU64,
    in_flight: AtomicU64,
    round_trips: AtomicU64,
}

/// Calls (each operation once, whatever the SDK retried) and round trips (a call that
/// started while no other was in flight begins a new one).
#[derive(Debug, Default, Clone)]
pub struct CallCounter(Arc<Counts>);

/// What a stretch of work cost the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    pub calls: u64,
    pub round_trips: u64,
}

impl CallCounter {
    pub fn calls(&self) -> u64 {
        self.0.calls.load(Ordering::SeqCst)
    }

    pub fn round_trips(&self) -> u64 {
        self.0.round_trips.load(Ordering::SeqCst)
    }

    /// The calls and round trips since `before`.
    pub fn since(&self, before: Cost) -> Cost {
        let now = self.now();
        Cost { calls: now.calls - before.calls, round_trips: now.round_trips - before.round_trips }
    }

    pub fn now(&self) -> Cost {
        Cost { calls: self.calls(), round_trips: self.round_trips() }
    }

    /// `inner`, with every call yielding once before it is sent. Calls that go out together
    /// (`join!`) are then in flight together whatever the machine's load: without it, a
    /// thread descheduled between sending a request and polling for its answer can find the
    /// answer already there, finish that call in one poll, and start the next one alone.
    pub fn http_client(inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(YieldFirst(inner))
    }
}

#[derive(Debug)]
struct YieldFirst(SharedHttpClient);

impl HttpClient for YieldFirst {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(YieldFirstConnector(self.0.http_connector(settings, components)))
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

#[derive(Debug)]
struct YieldFirstConnector(SharedHttpConnector);

impl HttpConnector for YieldFirstConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.0.clone();
        HttpConnectorFuture::new(async move {
            tokio::task::yield_now().await;
            inner.call(request).await
        })
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        if self.0.in_flight.fetch_add(1, Ordering::SeqCst) == 0 {
            self.0.round_trips.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}
