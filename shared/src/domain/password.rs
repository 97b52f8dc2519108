//! Passwords: the strength rule and Argon2id hashing.
//!
//! Hashes are PHC strings, so each carries its own parameters and the cost can be raised
//! later without breaking stored hashes. Parameters: OWASP's first choice for Argon2id
//! (19 MiB, 2 passes, 1 lane).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("the password must have at least {MIN_LEN} characters")]
    TooShort,
    #[error("the password must have at most {MAX_LEN} characters")]
    TooLong,
    #[error("the password must not be the account's e-mail")]
    EqualsEmail,
}

/// SPEC's rule for a new password: 10 to 128 characters and not the e-mail.
pub fn check_strength(password: &str, email: &str) -> Result<(), WeakPassword> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(WeakPassword::TooShort);
    }
    if len > MAX_LEN {
        return Err(WeakPassword::TooLong);
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Err(WeakPassword::EqualsEmail);
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// A hash of 32 random bytes nobody kept, at the same parameters: checked when the e-mail
/// is unknown so that an unknown account costs the same work as a wrong password.
/// A constant, so a cold start does not spend a hash on it.
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$0xZT2msJKY7BCAf6c7Dz/A$5qODI2YMJ2mOl29I/X/JRoKZM0LPUMJqrYhZr2kE5F0";

/// Hashes and verifies passwords at fixed Argon2id parameters.
#[derive(Clone)]
pub struct PasswordHasherArgon {
    argon: Argon2<'static>,
}

impl PasswordHasherArgon {
    pub const MEMORY_KIB: u32 = 19 * 1024;
    pub const PASSES: u32 = 2;
    pub const LANES: u32 = 1;

    pub fn new() -> Result<Self, HashError> {
        let params =
            Params::new(Self::MEMORY_KIB, Self::PASSES, Self::LANES, None).map_err(|e| HashError(e.to_string()))?;
        Ok(PasswordHasherArgon { argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, params) })
    }

    pub fn hash(&self, password: &str) -> Result<String, HashError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    }

    /// True when `password` matches `stored`. A malformed stored hash never matches.
    pub fn verify(&self, password: &str, stored: &str) -> bool {
        match PasswordHash::new(stored) {
            Ok(parsed) => self.argon.verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => {
                self.burn(password);
                false
            }
        }
    }

    /// Spends the work of one verification, for an account that does not exist.
    pub fn burn(&self, password: &str) {
        if let Ok(parsed) = PasswordHash::new(DECOY) {
            let _ = self.argon.verify_password(password.as_bytes(), &parsed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_rule() {
        assert_eq!(check_strength("corta", "ana@example.com"), Err(WeakPassword::TooShort));
        assert_eq!(check_strength(&"x".repeat(129), "ana@example.com"), Err(WeakPassword::TooLong));
        assert_eq!(check_strength("Ana@Example.com", "ana@example.com"), Err(WeakPassword::EqualsEmail));
        assert_eq!(check_strength("ñandúñandú", "ana@example.com"), Ok(()), "counted in characters, not bytes");
        assert_eq!(check_strength(&"x".repeat(128), "ana@example.com"), Ok(()));
    }

    #[test]
    fn hashes_are_argon2id_with_their_parameters_and_verify() {
        let h = PasswordHasherArgon::new().unwrap();
        let stored = h.hash("portal-demo-2026").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(h.verify("portal-demo-2026", &stored));
        assert!(!h.verify("portal-demo-2027", &stored));
        assert!(!h.verify("portal-demo-2026", "not a hash"));
        assert_ne!(stored, h.hash("portal-demo-2026").unwrap(), "salted");
    }

    #[test]
    fn the_decoy_costs_what_a_real_check_costs() {
        let h = PasswordHasherArgon::new().unwrap();
        let stored = h.hash("portal-demo-2026").unwrap();
        let params = |s: &str| s.split('$').nth(3).unwrap().to_string();
        assert_eq!(params(DECOY), params(&stored), "same Argon2id parameters");
        // The fastest of a few runs, so a busy machine does not skew the comparison.
        let time = |f: &dyn Fn()| {
            (0..3)
                .map(|_| {
                    let t = std::time::Instant::now();
                    f();
                    t.elapsed()
                })
                .min()
                .unwrap()
        };
        let burn = time(&|| h.burn("x"));
        let verify = time(&|| {
            h.verify("x", &stored);
        });
        let ratio = burn.as_secs_f64() / verify.as_secs_f64();
        assert!((0.33..3.0).contains(&ratio), "burn {burn:?} vs verify {verify:?}");
    }
}
