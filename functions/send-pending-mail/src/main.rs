use chrono::Utc;
use lambda_http::lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use shared::startup::{base, mail, Base};

// A Lambda instance serves one request at a time: one thread, no worker threads to start
// or to hand work between (BENCHMARKS.md, "Cold start").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let Base { sdk, store, .. } = base().await;
    let (_, mailer) = mail(&sdk);
    let app = send_pending_mail::App { store, mailer };
    let app = &app;
    run(service_fn(move |_event: LambdaEvent<Value>| async move {
        let report = app.run(Utc::now()).await?;
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}
