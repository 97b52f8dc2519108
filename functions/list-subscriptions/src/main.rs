use lambda_http::{run, service_fn, Error, Request};
use shared::catalog::CatalogCache;
use shared::startup::{base, Base};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let Base { settings, store, .. } = base().await;
    let catalog = CatalogCache::load(&store).await;
    let app = list_subscriptions::App { store, settings, catalog };
    let app = &app;
    run(service_fn(move |req: Request| async move { Ok::<_, Error>(app.handle(req).await) })).await
}
