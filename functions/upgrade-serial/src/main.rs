use lambda_http::{run, service_fn, Error, Request};
use shared::catalog::CatalogCache;
use shared::startup::{base, mail, Base};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let Base { settings, sdk, store } = base().await;
    let (mail, mailer) = mail(&sdk);
    let catalog = CatalogCache::load(&store).await;
    let app = upgrade_serial::App { store, settings, mail, mailer, catalog };
    let app = &app;
    run(service_fn(move |req: Request| async move { Ok::<_, Error>(app.handle(req).await) })).await
}
