//! Outgoing mail through Amazon SES v2.

pub mod account;
pub mod compose;

use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sesv2::Client;

pub use compose::Mail;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail service unavailable: {0}")]
    Unavailable(String),
    #[error("mail refused: {0}")]
    Rejected(String),
}

/// Sends mail from the configured sender. Cheap to clone; build once per cold start.
#[derive(Clone)]
pub struct Mailer {
    client: Client,
    from: String,
}

impl Mailer {
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        Mailer { client, from: from.into() }
    }

    /// Sends one mail; returns SES's message id.
    pub async fn send(&self, mail: &Mail) -> Result<String, MailError> {
        let content = |text: &str| {
            Content::builder().data(text).charset("UTF-8").build().map_err(|e| MailError::Rejected(e.to_string()))
        };
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(Body::builder().text(content(&mail.text)?).html(content(&mail.html)?).build())
            .build();
        let out = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| match &e {
                SdkError::ServiceError(se) => {
                    let code = se.err().code().unwrap_or("unknown").to_string();
                    match code.as_str() {
                        "TooManyRequestsException"
                        | "LimitExceededException"
                        | "InternalFailure"
                        | "ServiceUnavailable" => MailError::Unavailable(code),
                        _ => MailError::Rejected(format!("{code}: {}", se.err().message().unwrap_or_default())),
                    }
                }
                _ => MailError::Unavailable(format!("{e:?}")),
            })?;
        Ok(out.message_id.unwrap_or_default())
    }
}
