//! Support's reads (`portal-admin account show`): the whole of one account's partition in
//! one Query, and the mails to one address that the outbox still holds.

use chrono::{DateTime, Utc};

use super::account::{account_from, partition};
use super::attrs::Attrs;
use super::serial::subscription_from;
use super::session::session_from;
use super::{s, sdk_error, DynamoStore, Item};
use crate::domain::token::TokenDigest;
use crate::domain::{Account, AccountId};
use crate::outbox::PendingMail;
use crate::store::{AcceptedTerms, AccountOverview, MailsTo, Session, StoreError, StoreResult, Support, TermsRecord};

fn terms_from(item: &Item) -> StoreResult<AcceptedTerms> {
    let a = Attrs::new(item);
    let old = a.str("sk")?.trim_start_matches("TERMS#");
    Ok(AcceptedTerms {
        old_serial: crate::domain::Serial::parse(old).map_err(|e| a.corrupt(format!("sk: {e}")))?,
        new_serial: a.opt_serial("new_serial")?,
        record: TermsRecord {
            terms_version: a.str("terms_version")?.to_string(),
            accepted_at: a.instant("accepted_at")?,
            source_ip: a.opt_str("source_ip")?.unwrap_or_default().to_string(),
            user_agent: a.opt_str("user_agent")?.unwrap_or_default().to_string(),
        },
    })
}

/// The profile as support reads it: the account and its dates.
struct Profile {
    account: Account,
    created_at: Option<DateTime<Utc>>,
    invited_at: Option<DateTime<Utc>>,
    password_epoch: u64,
}

fn profile_from(item: &Item) -> StoreResult<Profile> {
    let a = Attrs::new(item);
    Ok(Profile {
        account: account_from(item)?,
        created_at: a.opt_instant("created_at")?,
        invited_at: a.opt_instant("invited_at")?,
        password_epoch: a.opt_num("password_epoch")?.unwrap_or(0),
    })
}

impl DynamoStore {
    /// Items of `pk` whose sort key starts with `prefix` and whose `to` is `to`, at most
    /// `limit` read (one page: a filter does not shorten what a Query reads).
    async fn to_recipient(&self, prefix: &str, to: &str, limit: i32) -> StoreResult<Vec<Item>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .filter_expression("#to = :to")
            .expression_attribute_names("#to", "to")
            .expression_attribute_values(":pk", s("OUTBOX"))
            .expression_attribute_values(":prefix", s(prefix))
            .expression_attribute_values(":to", s(to))
            .consistent_read(true)
            .limit(limit.max(1))
            .send()
            .await
            .map_err(|e| sdk_error("list mails to an address", e))?;
        Ok(out.items.unwrap_or_default())
    }
}

impl Support for DynamoStore {
    async fn account_overview(&self, account: &AccountId) -> StoreResult<Option<AccountOverview>> {
        let items = self.query_prefix("read account", &partition(account), "", None).await?;
        let mut unreadable = Vec::new();
        let mut note = |e: StoreError| unreadable.push(e.to_string());
        let (mut found, mut serials, mut sessions, mut terms) = (None, Vec::new(), Vec::new(), Vec::new());
        for item in &items {
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).map_or("", |v| v.as_str());
            if sk == "PROFILE" {
                profile_from(item).map_or_else(&mut note, |v| found = Some(v));
            } else if sk.starts_with("SERIAL#") {
                subscription_from(item).map_or_else(&mut note, |v| serials.push(v));
            } else if sk.starts_with("SESSION#") {
                let session = Attrs::new(item)
                    .str("digest")
                    .and_then(|d| session_from(item, TokenDigest::from_stored(d.to_string())));
                session.map_or_else(&mut note, |v| sessions.push(v));
            } else if sk.starts_with("TERMS#") {
                terms_from(item).map_or_else(&mut note, |v| terms.push(v));
            }
        }
        let Some(Profile { account, created_at, invited_at, password_epoch }) = found else { return Ok(None) };
        sessions.sort_by_key(|s: &Session| std::cmp::Reverse(s.last_used_at));
        terms.sort_by_key(|t: &AcceptedTerms| t.record.accepted_at);
        Ok(Some(AccountOverview {
            account,
            created_at,
            invited_at,
            password_epoch,
            serials,
            sessions,
            terms,
            unreadable,
        }))
    }

    async fn mails_to(&self, to: &str, limit: i32) -> StoreResult<MailsTo> {
        let (pending, dead) =
            tokio::join!(self.to_recipient("MAIL#", to, limit), self.to_recipient("DEAD#MAIL#", to, limit));
        let (pending, dead) = (pending?, dead?);
        // Read through the outbox's own decoding (the same items `mail list` shows).
        let mut out = MailsTo::default();
        for item in &pending {
            if let Ok(q) = super::outbox::queued::<PendingMail>(item) {
                if q.sent_at.is_none() {
                    out.pending.push(q);
                }
            }
        }
        for item in &dead {
            if let Ok(d) = super::outbox::dead::<PendingMail>(item) {
                out.dead.push(d);
            }
        }
        Ok(out)
    }
}
