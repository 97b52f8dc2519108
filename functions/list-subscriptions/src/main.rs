use lambda_http::{run, service_fn, Error, Request};
use shared::catalog::CatalogCache;
use shared::startup::{base, Base};

// A Lambda instance serves one request at a time: one thread, no worker threads to start
// or to hand work between (BENCHMARKS.md, "Cold start").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let Base { settings, store, .. } = base().await;
    let catalog = CatalogCache::load(&store).await;
    let app = list_subscriptions::App { store, settings, catalog };
    let app = &app;
    run(service_fn(move |req: Request| async move { Ok::<_, Error>(app.handle(req).await) })).await
}
