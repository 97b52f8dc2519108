//! Sends what the outbox holds, on two triggers:
//! - the table's stream: the events the portal's transactions just wrote (`SerialUpgraded`,
//!   `SerialActivated`, `PaymentApplied`), so no request waits on the bus;
//! - a schedule: the mails SES did not take when they were made, and any event the stream's
//!   delivery could not hand to the bus.
//!
//! The lease, send and clear of each message are the outbox's one routine
//! ([`shared::outbox`]), the same the requests use for their mails.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use shared::events::{EventBus, PendingEvent};
use shared::mail::Mailer;
use shared::outbox::{deliver_streamed, send_pending, PendingMail, RunReport};
use shared::startup::Base;
use shared::store::{inserted_events, DynamoStore, Outbox, StoreError};

pub struct App<S> {
    store: S,
    mailer: Mailer,
    events: EventBus,
}

/// What one scheduled run did, per kind.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Report {
    pub mails: RunReport,
    pub events: RunReport,
}

/// What one invocation did: a scheduled run, or a batch of the table's stream.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Outcome {
    Run(Report),
    Streamed { streamed_events: RunReport },
}

impl App<DynamoStore> {
    pub fn build(base: Base) -> Self {
        let (_, mailer) = base.mail();
        let events = base.events();
        App { store: base.store, mailer, events }
    }
}

impl<S: Outbox<PendingMail> + Outbox<PendingEvent>> App<S> {
    /// One invocation: a batch of the table's stream (Lambda's DynamoDB event, with its
    /// `Records`) delivers the events it inserted; anything else (the schedule's event) is
    /// a scheduled run.
    pub async fn handle(&self, event: &Value, now: DateTime<Utc>) -> Result<Outcome, StoreError> {
        if event.get("Records").is_some() {
            let inserted = inserted_events(event)?;
            return Ok(Outcome::Streamed {
                streamed_events: deliver_streamed(&self.store, &self.events, inserted, now).await,
            });
        }
        Ok(Outcome::Run(self.run(now).await?))
    }

    /// One scheduled run: the oldest pending mails and events, each leased, sent and
    /// cleared; the two kinds side by side.
    pub async fn run(&self, now: DateTime<Utc>) -> Result<Report, StoreError> {
        let (mails, events) =
            tokio::join!(send_pending(&self.store, &self.mailer, now), send_pending(&self.store, &self.events, now));
        Ok(Report { mails: mails?, events: events? })
    }
}
