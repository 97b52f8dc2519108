//! Sends the upgrade mails SES did not take at upgrade time. Runs on a schedule; each mail
//! is leased before sending, so two runs (or a run and the upgrade itself) never send the
//! same mail at once, and it leaves the outbox only once SES accepted it.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use shared::mail::{Mail, Mailer};
use shared::store::{MailOutbox, PendingMail};

/// Mails younger than this are still being sent by the upgrade request itself.
pub const GRACE_SECONDS: i64 = 60;
pub const LEASE_SECONDS: i64 = 120;
pub const BATCH: i32 = 100;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct RunReport {
    pub sent: u32,
    pub failed: u32,
    pub skipped: u32,
}

pub struct App<S> {
    pub store: S,
    pub mailer: Mailer,
}

impl<S: MailOutbox> App<S> {
    pub async fn run(&self, now: DateTime<Utc>) -> Result<RunReport, shared::store::StoreError> {
        let mut report = RunReport::default();
        let pending = self.store.pending_mails(now - Duration::seconds(GRACE_SECONDS), BATCH).await?;
        // One mail's trouble never holds up the others: each is leased, sent and cleared
        // on its own, and whatever failed waits for the next run.
        for mail in pending {
            match self.store.lease_mail(&mail.id, now, now + Duration::seconds(LEASE_SECONDS)).await {
                Ok(true) => {}
                Ok(false) => {
                    report.skipped += 1;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(mail = %mail.id, error = %e, "pending mail not leased");
                    report.failed += 1;
                    continue;
                }
            }
            match self.mailer.send(&to_mail(&mail)).await {
                Ok(id) => {
                    tracing::info!(mail = %mail.id, message_id = %id, "pending mail sent");
                    report.sent += 1;
                    if let Err(e) = self.store.mail_sent(&mail.id).await {
                        // Sent, still listed: it would go again once the lease is over.
                        tracing::error!(mail = %mail.id, error = %e, "sent mail not cleared from the outbox");
                    }
                }
                Err(e) => {
                    tracing::warn!(mail = %mail.id, error = %e, "pending mail still not sent");
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }
}

fn to_mail(p: &PendingMail) -> Mail {
    Mail { to: p.to.clone(), subject: p.subject.clone(), text: p.text.clone(), html: p.html.clone() }
}
