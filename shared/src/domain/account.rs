//! Customer accounts: e-mail, name, the company (razón social) the desktop program must be
//! activated with, and the password hash.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Normalised (trimmed, lower case): the account's key.
    pub email: String,
    pub name: String,
    pub company: String,
    /// Argon2id in PHC string form, parameters included.
    pub password_hash: String,
    pub failed_logins: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Account {
    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }
}

/// Trims and lower-cases an e-mail and checks its shape; `None` if it cannot be an address.
pub fn normalize_email(input: &str) -> Option<String> {
    let email = input.trim().to_lowercase();
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (local, domain) = email.rsplit_once('@')?;
    if local.is_empty() || local.len() > 64 || domain.len() < 3 || !domain.contains('.') || domain.contains('@') {
        return None;
    }
    if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
        return None;
    }
    Some(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_case_folded() {
        assert_eq!(normalize_email("  Ana@Example.COM ").as_deref(), Some("ana@example.com"));
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in ["", "ana", "ana@", "@example.com", "ana@example", "a b@example.com", "ana@.com", "ana@example..com"]
        {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }
}
