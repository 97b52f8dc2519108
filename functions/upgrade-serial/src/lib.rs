//! `POST /subscriptions/{serial}/upgrade`: accept the terms, get a new serial for the new
//! version, and the e-mail that announces it.
//!
//! Built like a transfer: the decision is pure ([`Subscription::upgrade`]); every write of
//! one upgrade (new serial, its claim, old serial superseded, accepted terms, pending mail
//! and its `SerialUpgraded` event) commits in one transaction whose conditions make a
//! second upgrade of the same serial impossible; the mail is sent after the commit and, if
//! SES fails, stays in the outbox for `send-pending-mail`; the event leaves through the
//! table's stream (`send-pending-mail` again), so the customer never waits on the bus.

use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use serde::Serialize;

use shared::auth::{authenticate_with_serial, token_account};
use shared::catalog::CatalogCache;
use shared::config::{MailSettings, Settings};
use shared::domain::{Catalog, Serial, SerialStatus, Subscription, TermsAcceptance};
use shared::events::{PendingEvent, PortalEvent};
use shared::http::{json, ApiError, Call, Function, Input, Reply, Route};
use shared::mail::{compose, Mailer};
use shared::metrics;
use shared::outbox::{self, PendingMail};
use shared::startup::Base;
use shared::store::{
    CatalogReader, DynamoStore, MailOutbox, SerialSessions, Sessions, SubscriptionReader, TermsRecord,
    UpgradeCommitError, UpgradeWriter,
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

pub struct App<S> {
    store: S,
    settings: Settings,
    mail: MailSettings,
    mailer: Mailer,
    catalog: CatalogCache,
}

/// The function's routes, declared once (see `login::routes`).
pub fn routes() -> Vec<Route<App<DynamoStore>>> {
    vec![Route::post("/subscriptions/{serial}/upgrade", Input::Json, |app, call| Box::pin(app.upgrade(call)))]
}

impl App<DynamoStore> {
    pub fn build(base: Base) -> Function<Self> {
        let (mail, mailer) = base.mail();
        let edge = base.settings.origin_verify_secret.clone();
        let app = App { store: base.store, settings: base.settings, mail, mailer, catalog: CatalogCache::default() };
        Function::new(app, routes()).behind_edge(edge)
    }
}

#[derive(Serialize)]
struct UpgradeResponse {
    subscription: SubscriptionView,
    previous: SubscriptionView,
}

impl<S> App<S>
where
    S: Sessions + SerialSessions + SubscriptionReader + CatalogReader + UpgradeWriter + MailOutbox,
{
    async fn upgrade(&self, call: Call) -> Reply {
        let now = call.now;
        // A mistyped serial is answered before any store read, the session's included.
        let serial = call.serial(&self.settings.serials)?;
        // A bearer that cannot be one of ours costs no read either (not even the catalog's).
        token_account(&call)?;
        // The reads go out together: the session check with the account's profile (for
        // the mail) and the old serial in one BatchGetItem, and, on first use, the catalog.
        let (auth, catalog) = tokio::join!(
            authenticate_with_serial(&self.store, &self.settings, &call, &serial, now),
            self.catalog.get(&self.store)
        );
        let (_, profile, old) = auth?;
        let body = call.body()?;
        let acceptance = TermsAcceptance {
            accepted: body.boolean("accept_terms")?,
            terms_version: body.string("terms_version", 64)?.to_string(),
        };
        let today = self.settings.today(now);
        let old = old.ok_or(ApiError::NotFound)?;
        let catalog = catalog?;
        if old.status(today) == SerialStatus::Superseded {
            // Asked again: the same answer, no new serial, no new mail.
            return self.answer_repeat(&old, &catalog, now).await;
        }
        let product = catalog.get(&old.system);
        let terms = TermsRecord {
            terms_version: acceptance.terms_version.clone(),
            accepted_at: now,
            source_ip: call.caller.source_ip.clone(),
            user_agent: call.caller.user_agent.clone(),
        };
        let account = profile.account;
        for attempt in 0..COMMIT_ATTEMPTS {
            let new_serial = Serial::generate().map_err(|e| ApiError::Internal(e.to_string()))?;
            let upgrade = old.upgrade(product, &acceptance, new_serial, today)?;
            let product = product.ok_or_else(|| ApiError::Internal("upgrade without a product".into()))?;
            let mail = compose::upgrade_mail(
                &self.mail,
                &account.name,
                &account.company,
                account.email.as_str(),
                product,
                &upgrade.previous,
                &upgrade.new,
            );
            let pending = PendingMail::new(upgrade.new.serial.as_str(), mail, now);
            let event = PendingEvent::new(
                &PortalEvent::upgraded(&upgrade.previous, &upgrade.new, &terms.terms_version, now),
                now,
            );
            match self.store.commit_upgrade(&upgrade, &account.company, &terms, &pending, &event).await {
                Ok(()) => {
                    tracing::info!(old = %old.serial, new = %upgrade.new.serial, "serial upgraded");
                    metrics::count("Upgrades", 1);
                    // The transaction leased the mail to this request: send it, then clear
                    // it. The event leaves through the table's stream, off this path.
                    outbox::send_leased(&self.store, &self.mailer, &pending, now).await;
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

    async fn answer_repeat(&self, old: &Subscription, catalog: &Catalog, now: DateTime<Utc>) -> Reply {
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
    async fn answer_concurrent(&self, old: &Subscription, catalog: &Catalog, now: DateTime<Utc>) -> Reply {
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
