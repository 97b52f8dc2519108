//! The `account` function's bootstrap: clients and settings once, then the route table.

// One request at a time: one thread (see login's main).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::serve(account::App::build(shared::startup::base().await)).await
}
