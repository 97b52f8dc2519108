//! Bearer and reset tokens: 256 random bits shown once to the customer, stored only as a
//! SHA-256 digest so a copy of the table cannot be used to log in.

use base64::Engine;
use sha2::{Digest, Sha256};

use super::account::AccountId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// What the customer gets (base64url, 43 characters).
    pub secret: String,
    /// What the store keeps.
    pub digest: TokenDigest,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenDigest(String);

impl TokenDigest {
    /// The digest of a presented token. Anything can be presented; only a digest is kept.
    pub fn of(secret: &str) -> Self {
        let hash = Sha256::digest(secret.as_bytes());
        TokenDigest(hash.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn from_stored(hex: String) -> Self {
        TokenDigest(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn issue_token() -> Result<IssuedToken, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let digest = TokenDigest::of(&secret);
    Ok(IssuedToken { secret, digest })
}

/// A bearer token: `<account id>.<256 random bits>`. The account it names before the dot
/// lets a request read the session and the account together (one round trip); only the
/// digest of the whole token is stored, and the session item must name the same account.
pub fn issue_session_token(account: &AccountId) -> Result<IssuedToken, getrandom::Error> {
    let random = issue_token()?;
    let secret = format!("{account}.{}", random.secret);
    let digest = TokenDigest::of(&secret);
    Ok(IssuedToken { secret, digest })
}

/// The account a presented bearer token names and the token's digest; `None` for anything
/// that cannot be one of ours (refused without a store read).
pub fn parse_session_token(s: &str) -> Option<(AccountId, TokenDigest)> {
    let (account, random) = s.split_once('.')?;
    let account = AccountId::parse(account).ok()?;
    plausible_token(random).then(|| (account, TokenDigest::of(s)))
}

/// 128 random bits as lower-case hex: names a session to its owner without being its token.
pub fn random_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Tokens we issue have this shape; anything else is refused without a store read.
pub fn plausible_token(s: &str) -> bool {
    s.len() == 43 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_digest_matches() {
        let a = issue_token().unwrap();
        let b = issue_token().unwrap();
        assert_ne!(a.secret, b.secret);
        assert!(plausible_token(&a.secret));
        assert_eq!(TokenDigest::of(&a.secret), a.digest);
        assert_ne!(a.digest.as_str(), a.secret);
        assert_eq!(a.digest.as_str().len(), 64);
    }

    #[test]
    fn session_tokens_name_their_account_and_nothing_else_parses() {
        let account = AccountId::generate().unwrap();
        let t = issue_session_token(&account).unwrap();
        assert_eq!(parse_session_token(&t.secret), Some((account.clone(), t.digest.clone())));
        let random = t.secret.split_once('.').unwrap().1;
        for bad in [random, "", ".", &format!("{account}."), &format!("{account}.{random}x"), &format!("x{}", t.secret)]
        {
            assert_eq!(parse_session_token(bad), None, "{bad}");
        }
    }
}
