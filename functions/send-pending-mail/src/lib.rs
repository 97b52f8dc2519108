//! Sends what the outbox still holds: the mails SES did not take and the events the bus
//! did not take when they were made. Runs on a schedule; the lease, send and clear of each
//! message are the outbox's one routine ([`shared::outbox`]), the same the requests use.

use chrono::{DateTime, Utc};
use serde::Serialize;

use shared::events::{EventBus, PendingEvent};
use shared::mail::Mailer;
use shared::outbox::{send_pending, PendingMail, RunReport};
use shared::startup::Base;
use shared::store::{DynamoStore, Outbox, StoreError};

pub struct App<S> {
    store: S,
    mailer: Mailer,
    events: EventBus,
}

/// What one run did, per kind.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Report {
    pub mails: RunReport,
    pub events: RunReport,
}

impl App<DynamoStore> {
    pub fn build(base: Base) -> Self {
        let (_, mailer) = base.mail();
        let events = base.events();
        App { store: base.store, mailer, events }
    }
}

impl<S: Outbox<PendingMail> + Outbox<PendingEvent>> App<S> {
    /// One scheduled run: the oldest pending mails and events, each leased, sent and
    /// cleared; the two kinds side by side.
    pub async fn run(&self, now: DateTime<Utc>) -> Result<Report, StoreError> {
        let (mails, events) =
            tokio::join!(send_pending(&self.store, &self.mailer, now), send_pending(&self.store, &self.events, now));
        Ok(Report { mails: mails?, events: events? })
    }
}
