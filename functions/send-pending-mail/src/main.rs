//! The `send-pending-mail` function's bootstrap: a scheduled event in, a run report out.

use lambda_http::lambda_runtime::{run, service_fn, Error, LambdaEvent};

// One thread: a Lambda instance serves one event at a time (BENCHMARKS.md, "Cold start").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let app = &send_pending_mail::App::build(shared::startup::base().await);
    run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        Ok::<_, Error>(serde_json::to_value(app.run(chrono::Utc::now()).await?)?)
    }))
    .await
}
