//! Counts the DynamoDB calls a test's store makes, and how many of them the caller waited
//! for in sequence (round trips): an SDK interceptor, installed on the test's client only.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::config::interceptors::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;

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
