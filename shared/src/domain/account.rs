//! Customer accounts: an id that never changes, the e-mail they log in with, the holder's
//! name and the company (razón social) the desktop program must be activated with; and
//! the credentials kept with the e-mail (see `docs/table-design.md`).

use std::fmt;

use super::email::Email;

/// An account's key: 128 random bits, lower-case hex. Opaque; never derived from the e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an account id")]
pub struct AccountIdError;

impl AccountId {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(AccountId(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// An id read back from the store.
    pub fn parse(s: &str) -> Result<Self, AccountIdError> {
        if s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(AccountId(s.to_string()))
        } else {
            Err(AccountIdError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The account's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub email: Email,
    pub name: String,
    pub company: String,
}

/// What a login checks, kept with the e-mail so that one read finds both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub account: AccountId,
    pub email: Email,
    /// Argon2id in PHC string form, parameters included.
    pub password_hash: String,
    /// Moves on with every password change; a session lives only for the epoch it was
    /// made with.
    pub password_epoch: u64,
    /// Two-step verification is on: a right password alone makes no session.
    pub two_step: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_random_and_parse_back() {
        let a = AccountId::generate().unwrap();
        let b = AccountId::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(AccountId::parse(a.as_str()), Ok(a.clone()));
        assert_eq!(a.as_str().len(), 32);
        for bad in ["", "ana@example.com", &a.as_str().to_uppercase(), &a.as_str()[1..]] {
            assert_eq!(AccountId::parse(bad), Err(AccountIdError), "{bad}");
        }
    }
}
