use lambda_http::{run, service_fn, Error, Request};
use shared::catalog::CatalogCache;
use shared::config::{MailSettings, Settings};
use shared::mail::Mailer;
use shared::store::DynamoStore;
use shared::telemetry::{fail_start, init};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init();
    let settings = Settings::from_env().unwrap_or_else(|e| fail_start("settings", e));
    let mail = MailSettings::from_env().unwrap_or_else(|e| fail_start("settings", e));
    let sdk = shared::aws::sdk_config().await;
    let store = DynamoStore::new(shared::aws::dynamodb(&sdk), &settings.table_name);
    let mailer = Mailer::new(shared::aws::sesv2(&sdk), &mail.mail_from);
    let catalog = CatalogCache::load(&store).await;
    let app = upgrade_serial::App { store, settings, mail, mailer, catalog };
    let app = &app;
    run(service_fn(move |req: Request| async move { Ok::<_, Error>(app.handle(req).await) })).await
}
