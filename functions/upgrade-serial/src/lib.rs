//! `POST /subscriptions/{serial}/upgrade`: accept the terms, get a new serial for the new
//! version, and the e-mail that announces it.
//!
//! Built like a transfer: the decision is pure ([`Subscription::upgrade`]); every write of
//! one upgrade (new serial, its claim, old serial superseded, accepted terms, pending mail)
//! commits in one transaction whose conditions make a second upgrade of the same serial
//! impossible; the mail is sent after the commit and, if SES fails, stays in the outbox
//! for `send-pending-mail`.

use chrono::{DateTime, Duration, Utc};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use shared::auth::authenticate;
use shared::catalog::CatalogCache;
use shared::config::{MailSettings, Settings};
use shared::domain::{Catalog, Serial, SerialStatus, Subscription, TermsAcceptance};
use shared::http::{
    caller, json, path_serial, preflight, require_method, route_path, within_deadline, ApiError, JsonBody,
};
use shared::mail::{compose, Mail, Mailer};
use shared::store::{
    Accounts, CatalogReader, MailOutbox, PendingMail, Sessions, SubscriptionReader, TermsRecord, UpgradeCommitError,
    UpgradeWriter,
};
use shared::view::SubscriptionView;

/// Commits tried before answering 503: a taken serial number or a contended old serial
/// gets another go.
const COMMIT_ATTEMPTS: u32 = 5;

/// A short random pause, so contenders that gave way do not collide again in step.
fn backoff(attempt: u32) -> std::time::Duration {
    let mut b = [0u8; 1];
    let jitter = getrandom::fill(&mut b).map_or(0, |_| u64::from(b[0]) % 40);
    std::time::Duration::from_millis(20 * u64::from(attempt + 1) + jitter)
}

/// How long a sender holds a pending mail before another may retry it.
pub const MAIL_LEASE_SECONDS: i64 = 60;

pub struct App<S> {
    pub store: S,
    pub settings: Settings,
    pub mail: MailSettings,
    pub mailer: Mailer,
    pub catalog: CatalogCache,
}

#[derive(Serialize)]
struct UpgradeResponse {
    subscription: SubscriptionView,
    previous: SubscriptionView,
}

impl<S> App<S>
where
    S: Sessions + Accounts + SubscriptionReader + CatalogReader + UpgradeWriter + MailOutbox,
{
    pub async fn handle(&self, req: Request) -> Response<Body> {
        if let Some(res) = preflight(&req) {
            return res;
        }
        within_deadline(&req, self.route(&req, Utc::now())).await
    }

    async fn route(&self, req: &Request, now: DateTime<Utc>) -> Result<Response<Body>, ApiError> {
        let path = route_path(req);
        let segments: Vec<&str> = path.split('/').collect();
        if !matches!(segments.as_slice(), ["", "subscriptions", _, "upgrade"]) {
            return Err(ApiError::RouteNotFound);
        }
        require_method(req, Method::POST, "POST")?;
        // A mistyped serial is answered before any store read, the session's included.
        let serial = path_serial(req, "subscriptions")?;
        let session = authenticate(&self.store, req, now).await?;
        let body = JsonBody::parse(req)?;
        let acceptance = TermsAcceptance {
            accepted: body.boolean("accept_terms")?,
            terms_version: body.string("terms_version", 64)?.to_string(),
        };
        let today = self.settings.today(now);
        let old = self.store.subscription(&session.account, &serial).await?.ok_or(ApiError::NotFound)?;
        let catalog = self.catalog.get(&self.store).await?;
        if old.status(today) == SerialStatus::Superseded {
            // Asked again: the same answer, no new serial, no new mail.
            return self.answer_repeat(&old, &catalog, now).await;
        }
        let product = catalog.get(&old.system);
        let (ip, agent) = caller(req);
        let terms = TermsRecord {
            terms_version: acceptance.terms_version.clone(),
            accepted_at: now,
            source_ip: ip,
            user_agent: agent,
        };
        let account = self.store.account(&session.account).await?.ok_or(ApiError::Unauthorized)?;
        for attempt in 0..COMMIT_ATTEMPTS {
            let new_serial = Serial::generate().map_err(|e| ApiError::Internal(e.to_string()))?;
            let upgrade = old.upgrade(product, &acceptance, new_serial, today)?;
            let product = product.ok_or_else(|| ApiError::Internal("upgrade without a product".into()))?;
            let mail = compose::upgrade_mail(
                &self.mail,
                &account.name,
                &account.company,
                &account.email,
                product,
                &upgrade.previous,
                &upgrade.new,
            );
            let pending = pending_mail(&mail, upgrade.new.serial.as_str(), now);
            match self.store.commit_upgrade(&upgrade, &terms, &pending).await {
                Ok(()) => {
                    tracing::info!(old = %old.serial, new = %upgrade.new.serial, "serial upgraded");
                    self.deliver(&pending, now).await;
                    let body = UpgradeResponse {
                        subscription: SubscriptionView::new(&upgrade.new, &catalog, today),
                        previous: SubscriptionView::new(&upgrade.previous, &catalog, today),
                    };
                    return json(StatusCode::CREATED, &body);
                }
                Err(UpgradeCommitError::SerialTaken) => {
                    tracing::warn!("new serial number was taken; drawing another");
                    continue;
                }
                Err(UpgradeCommitError::AlreadyUpgraded) => return self.answer_concurrent(&old, &catalog, now).await,
                Err(UpgradeCommitError::Contended) => {
                    // Nothing was written. If a concurrent upgrade won, answer with it;
                    // otherwise (both gave way, or another write held the serial) try again.
                    if let Some(current) = self.store.subscription(&old.account, &old.serial).await? {
                        if current.superseded_by.is_some() {
                            return self.answer_repeat(&current, &catalog, now).await;
                        }
                    }
                    tracing::info!(attempt, "upgrade contended; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(UpgradeCommitError::Store(e)) => return Err(e.into()),
            }
        }
        Err(ApiError::Unavailable("the upgrade could not be committed".into()))
    }

    /// Sends the committed mail now if SES answers; otherwise the outbox keeps it.
    async fn deliver(&self, pending: &PendingMail, now: DateTime<Utc>) {
        match self.store.lease_mail(&pending.id, now, now + Duration::seconds(MAIL_LEASE_SECONDS)).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, "upgrade mail left for retry");
                return;
            }
        }
        match self.mailer.send(&mail_of(pending)).await {
            Ok(id) => {
                tracing::info!(message_id = %id, "upgrade mail sent");
                if let Err(e) = self.store.mail_sent(&pending.id).await {
                    // Sent but still listed: the retry would send it twice after the lease.
                    tracing::error!(error = %e, mail = %pending.id, "sent mail not cleared from the outbox");
                }
            }
            Err(e) => tracing::warn!(error = %e, mail = %pending.id, "upgrade mail not sent; left for retry"),
        }
    }

    async fn answer_repeat(
        &self,
        old: &Subscription,
        catalog: &Catalog,
        now: DateTime<Utc>,
    ) -> Result<Response<Body>, ApiError> {
        let today = self.settings.today(now);
        let new_serial =
            old.superseded_by.as_ref().ok_or_else(|| ApiError::Internal("superseded without successor".into()))?;
        let new = self
            .store
            .subscription(&old.account, new_serial)
            .await?
            .ok_or_else(|| ApiError::Internal(format!("successor {new_serial} of {} is missing", old.serial)))?;
        let body = UpgradeResponse {
            subscription: SubscriptionView::new(&new, catalog, today),
            previous: SubscriptionView::new(old, catalog, today),
        };
        json(StatusCode::OK, &body)
    }

    /// Another request upgraded this serial first (or is committing right now): answer
    /// with its result once it is visible.
    async fn answer_concurrent(
        &self,
        old: &Subscription,
        catalog: &Catalog,
        now: DateTime<Utc>,
    ) -> Result<Response<Body>, ApiError> {
        for attempt in 0..10u64 {
            if let Some(current) = self.store.subscription(&old.account, &old.serial).await? {
                if current.superseded_by.is_some() {
                    return self.answer_repeat(&current, catalog, now).await;
                }
                if current.version != old.version {
                    return Err(ApiError::NoUpgradeAvailable);
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(20 * (attempt + 1))).await;
        }
        Err(ApiError::Unavailable("a concurrent upgrade did not settle".into()))
    }
}

fn pending_mail(mail: &Mail, id: &str, now: DateTime<Utc>) -> PendingMail {
    PendingMail {
        id: id.to_string(),
        to: mail.to.clone(),
        subject: mail.subject.clone(),
        text: mail.text.clone(),
        html: mail.html.clone(),
        created_at: now,
    }
}

pub fn mail_of(pending: &PendingMail) -> Mail {
    Mail {
        to: pending.to.clone(),
        subject: pending.subject.clone(),
        text: pending.text.clone(),
        html: pending.html.clone(),
    }
}
