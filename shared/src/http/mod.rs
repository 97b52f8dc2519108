//! HTTP for every function: the route table and its one dispatcher ([`router`]), the
//! errors as problem+json ([`error`], the one mapping), request bodies and answers.

mod body;
mod error;
mod response;
mod router;

pub use body::{query_choice, JsonBody, MAX_BODY_BYTES, MAX_FIELD_BYTES};
pub use error::{ApiError, RETRY_AFTER_UNAVAILABLE};
pub use response::{json, no_content};
pub use router::{
    budget, parse_serial, route_path, serve, Call, Caller, Function, Handler, HandlerFuture, Input, Reply, Route,
    DEADLINE_MARGIN, DEFAULT_BUDGET, STALE_DEADLINE,
};

/// CPU-heavy work (Argon2id takes tens of milliseconds) off the async thread, so the one
/// thread of an instance keeps serving its I/O meanwhile.
pub async fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(e.to_string()))
}
