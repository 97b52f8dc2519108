//! Outgoing mail through Amazon SES v2.

pub mod account;
pub mod compose;

use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sesv2::Client;

pub use compose::Mail;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// SES, or the sending account, cannot send now (throttled, a quota, sending paused,
    /// the sender's domain not verified yet, unreachable): worth another attempt later.
    #[error("mail service unavailable: {0}")]
    Unavailable(String),
    /// Refused for good for this mail: sending it again would be refused again.
    #[error("mail refused: {0}")]
    Rejected(String),
}

/// SES v2's refusals that are final for the mail itself: `MessageRejected` (its content,
/// or in the sandbox an unverified address) and a request SES cannot take
/// (`BadRequestException`; moto's `InvalidParameterValue` for an address without a
/// domain). Everything else (`TooManyRequestsException`, `LimitExceededException`,
/// `SendingPausedException`, `AccountSuspendedException`,
/// `MailFromDomainNotVerifiedException`, `NotFoundException`, server errors, time-outs)
/// is about the account or the moment, not this mail: retried, and given up on only after
/// the outbox's last attempt.
pub fn refused_for_good(code: &str) -> bool {
    matches!(code, "MessageRejected" | "BadRequestException" | "InvalidParameterValue")
}

/// Sends mail from the configured sender. Cheap to clone; build once per cold start.
#[derive(Clone)]
pub struct Mailer {
    /// Built on the first mail when built from the SDK's config: the retry job's empty
    /// run, a login without a new device, a wrong password never send one.
    client: crate::aws::ClientOnFirstUse<Client>,
    from: String,
}

impl Mailer {
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        Mailer { client: crate::aws::ClientOnFirstUse::built(client), from: from.into() }
    }

    /// The SES v2 client of [`crate::aws::sesv2`], built when the first mail goes out.
    pub fn on_first_use(sdk: &aws_config::SdkConfig, from: impl Into<String>) -> Self {
        Mailer { client: crate::aws::ClientOnFirstUse::new(sdk, crate::aws::sesv2), from: from.into() }
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
            .get()
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| match e.code() {
                Some(code) if refused_for_good(code) => {
                    MailError::Rejected(format!("{code}: {}", e.message().unwrap_or_default()))
                }
                Some(code) => MailError::Unavailable(format!("{code}: {}", e.message().unwrap_or_default())),
                None => MailError::Unavailable(match e {
                    SdkError::TimeoutError(_) => "timed out".to_string(),
                    SdkError::DispatchFailure(_) => "could not reach SES".to_string(),
                    SdkError::ResponseError(_) => "unreadable answer".to_string(),
                    _ => "the request could not be built".to_string(),
                }),
            })?;
        Ok(out.message_id.unwrap_or_default())
    }
}
