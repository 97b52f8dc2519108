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
