use chrono::Utc;
use lambda_http::lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
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
    let app = send_pending_mail::App { store, mailer };
    let app = &app;
    run(service_fn(move |_event: LambdaEvent<Value>| async move {
        let report = app.run(Utc::now()).await?;
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}
