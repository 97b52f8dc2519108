use lambda_http::{run, service_fn, Error, Request};
use shared::config::Settings;
use shared::store::DynamoStore;
use shared::telemetry::{fail_start, init};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init();
    let settings = Settings::from_env().unwrap_or_else(|e| fail_start("settings", e));
    let sdk = shared::aws::sdk_config().await;
    let store = DynamoStore::new(shared::aws::dynamodb(&sdk), &settings.table_name);
    let app = validate_serial::App { store, settings };
    let app = &app;
    run(service_fn(move |req: Request| async move { Ok::<_, Error>(app.handle(req).await) })).await
}
