//! A change of the e-mail an account logs in with: asked for with the password, confirmed
//! with a one-time link mailed to the new address. The account keeps its id, and with it
//! its serials; only the login (the e-mail's uniqueness item) moves.

use chrono::{DateTime, Duration, Utc};

use super::account::{Account, AccountId};
use super::email::Email;
use super::token::TokenDigest;

/// How long a confirmation link works.
pub const EMAIL_CHANGE_TTL_MINUTES: i64 = 60;

/// A requested change, kept under the digest of its link's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailChange {
    pub digest: TokenDigest,
    pub account: AccountId,
    /// The account's e-mail when it was asked for: the change applies only from it.
    pub old_email: Email,
    pub new_email: Email,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailChangeRefusal {
    #[error("new_email: it is the account's e-mail already")]
    SameEmail,
}

impl EmailChange {
    /// A change of `account`'s e-mail to `new_email`, asked for at `now`.
    pub fn ask(
        digest: TokenDigest,
        account: &Account,
        new_email: Email,
        now: DateTime<Utc>,
    ) -> Result<Self, EmailChangeRefusal> {
        if new_email == account.email {
            return Err(EmailChangeRefusal::SameEmail);
        }
        Ok(EmailChange {
            digest,
            account: account.id.clone(),
            old_email: account.email.clone(),
            new_email,
            issued_at: now,
            expires_at: now + Duration::minutes(EMAIL_CHANGE_TTL_MINUTES),
            used: false,
        })
    }

    /// Whether `account` (as it stands now, with the digest of its latest request) may
    /// confirm this change at `now`: its own, unused, unexpired, the latest one asked for,
    /// and asked from the e-mail the account still has.
    pub fn confirmable_by(&self, account: &Account, latest: Option<&TokenDigest>, now: DateTime<Utc>) -> bool {
        self.account == account.id
            && !self.used
            && self.expires_at > now
            && latest == Some(&self.digest)
            && self.old_email == account.email
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ana() -> Account {
        Account {
            id: AccountId::generate().unwrap(),
            email: Email::parse("ana@example.com").unwrap(),
            name: "Ana".into(),
            company: "Ruiz".into(),
        }
    }

    #[test]
    fn a_change_is_to_another_address_and_lasts_an_hour() {
        let (a, now) = (ana(), Utc::now());
        let digest = TokenDigest::of("t");
        let same = Email::parse(" ANA@example.com").unwrap();
        assert_eq!(EmailChange::ask(digest.clone(), &a, same, now), Err(EmailChangeRefusal::SameEmail));
        let c = EmailChange::ask(digest, &a, Email::parse("nueva@example.com").unwrap(), now).unwrap();
        assert_eq!((c.old_email.as_str(), c.new_email.as_str()), ("ana@example.com", "nueva@example.com"));
        assert_eq!(c.expires_at - c.issued_at, Duration::minutes(60));
    }

    #[test]
    fn only_the_latest_unused_unexpired_change_of_the_same_account_and_address_confirms() {
        let (a, now) = (ana(), Utc::now());
        let digest = TokenDigest::of("t");
        let c = EmailChange::ask(digest.clone(), &a, Email::parse("nueva@example.com").unwrap(), now).unwrap();
        assert!(c.confirmable_by(&a, Some(&digest), now));
        assert!(!c.confirmable_by(&a, Some(&TokenDigest::of("newer")), now), "a newer request replaced it");
        assert!(!c.confirmable_by(&a, None, now));
        assert!(!c.confirmable_by(&a, Some(&digest), now + Duration::minutes(61)), "expired");
        assert!(!c.confirmable_by(&ana(), Some(&digest), now), "another account");
        let moved = Account { email: Email::parse("otra@example.com").unwrap(), ..a.clone() };
        assert!(!c.confirmable_by(&moved, Some(&digest), now), "the e-mail changed since");
        let used = EmailChange { used: true, ..c };
        assert!(!used.confirmable_by(&a, Some(&digest), now));
    }
}
