use lambda_http::{run, service_fn, Error, Request};
use shared::domain::password::PasswordHasherArgon;
use shared::startup::{base, mail, Base};
use shared::telemetry::fail_start;

// A Lambda instance serves one request at a time: one thread, no worker threads to start
// or to hand work between (BENCHMARKS.md, "Cold start").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let Base { sdk, store, .. } = base().await;
    let (mail, mailer) = mail(&sdk);
    let hasher = PasswordHasherArgon::new().unwrap_or_else(|e| fail_start("password hasher", e));
    let app = recover_password::App { store, mail, mailer, hasher };
    let app = &app;
    run(service_fn(move |req: Request| async move { Ok::<_, Error>(app.handle(req).await) })).await
}
