//! The `send-pending-mail` function's bootstrap: a scheduled event or a batch of the
//! table's stream in, a report out.

use lambda_http::lambda_runtime::{run, service_fn, Error, LambdaEvent};

// One thread: a Lambda instance serves one event at a time (BENCHMARKS.md, "Cold start").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let app = &send_pending_mail::App::build(shared::startup::base().await);
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        Ok::<_, Error>(serde_json::to_value(app.handle(&event.payload, chrono::Utc::now()).await?)?)
    }))
    .await
}
