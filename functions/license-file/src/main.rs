//! The `license-file` function's bootstrap: clients and settings once, then the route table.

// A Lambda instance serves one request at a time: one thread, no worker threads to start
// or to hand work between (BENCHMARKS.md, "Cold start").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::serve(license_file::App::build(shared::startup::base().await)).await
}
