use lambda_http::{run, service_fn, Error, Request};
use shared::catalog::CatalogCache;
use shared::startup::{base, mail, Base};

// A Lambda instance serves one request at a time: one thread, no worker threads to start
// or to hand work between (BENCHMARKS.md, "Cold start").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let Base { settings, sdk, store } = base().await;
    let (mail, mailer) = mail(&sdk);
    let catalog = CatalogCache::load(&store).await;
    let app = upgrade_serial::App { store, settings, mail, mailer, catalog };
    let app = &app;
    run(service_fn(move |req: Request| async move { Ok::<_, Error>(app.handle(req).await) })).await
}
