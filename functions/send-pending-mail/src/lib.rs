//! Sends the mails SES did not take when they were made. Runs on a schedule; the lease,
//! send and clear of each mail are the outbox's one routine ([`shared::outbox`]), the same
//! the requests use.

use chrono::{DateTime, Utc};

use shared::mail::Mailer;
use shared::outbox::{send_pending, RunReport};
use shared::startup::Base;
use shared::store::{DynamoStore, MailOutbox, StoreError};

pub struct App<S> {
    store: S,
    mailer: Mailer,
}

impl App<DynamoStore> {
    pub fn build(base: Base) -> Self {
        let (_, mailer) = base.mail();
        App { store: base.store, mailer }
    }
}

impl<S: MailOutbox> App<S> {
    /// One scheduled run: the oldest pending mails, each leased, sent and cleared.
    pub async fn run(&self, now: DateTime<Utc>) -> Result<RunReport, StoreError> {
        send_pending(&self.store, &self.mailer, now).await
    }
}
