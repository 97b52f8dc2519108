//! Passwords: the strength rule and Argon2id hashing.
//!
//! Hashes are PHC strings, so each carries its own parameters and the cost can be changed
//! later without breaking stored hashes: a hash at other parameters still verifies, and a
//! login that verifies one stores it again at these ([`PasswordHasherArgon::outdated`]).
//! Parameters: one of OWASP's equivalent settings for Argon2id (12 MiB, 3 passes, 1 lane;
//! OWASP lists it beside 19 MiB and 2 passes as the same defence, traded between memory
//! and passes). 12 MiB keeps the functions that hash well inside their memory
//! (BENCHMARKS.md, "Peak RSS").

use super::email::Email;
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("the password must have at least {MIN_LEN} characters")]
    TooShort,
    #[error("the password must have at most {MAX_LEN} characters")]
    TooLong,
    #[error("the password must not be the account's e-mail")]
    EqualsEmail,
    #[error("the password is too common or too easy to guess; use a longer phrase of unrelated words")]
    Guessable,
}

/// zxcvbn's scores go from 0 (guessed in under 10^3 tries) to 4 (over 10^10): 3 and up
/// resists an online attack and slows an offline one (OWASP ASVS 2.1.7).
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// The rule for a new password (docs/product.md): 12 to 128 characters, not the e-mail,
/// and not common or guessable (a strength estimator that also knows the e-mail and
/// `related`, e.g. the holder's name and company).
pub fn check_strength(password: &str, email: &Email) -> Result<(), WeakPassword> {
    check_strength_with(password, email, &[])
}

pub fn check_strength_with(password: &str, email: &Email, related: &[&str]) -> Result<(), WeakPassword> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(WeakPassword::TooShort);
    }
    if len > MAX_LEN {
        return Err(WeakPassword::TooLong);
    }
    if password.trim().to_lowercase() == email.as_str() {
        return Err(WeakPassword::EqualsEmail);
    }
    let local = email.as_str().split('@').next().unwrap_or_default();
    let mut inputs = vec![email.as_str(), local];
    inputs.extend_from_slice(related);
    if zxcvbn::zxcvbn(password, &inputs).score() < MIN_SCORE {
        return Err(WeakPassword::Guessable);
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// A hash of 32 random bytes nobody kept, at the same parameters: checked when the e-mail
/// is unknown so that an unknown account costs the same work as a wrong password.
/// A constant, so a cold start does not spend a hash on it.
const DECOY: &str = "$argon2id$v=19$m=12288,t=3,p=1$7iWsxrFoEXpmNOisI1p7lg$bFEEXfAQe1/zXHGLX92Rd21k2BU1f5U26WnVCAGpqIw";

/// Hashes and verifies passwords at fixed Argon2id parameters.
///
/// Argon2's working memory ([`Self::MEMORY_KIB`]) is allocated on first use and reused by
/// every hash after it. Allocating and freeing the memory per hash, as `argon2` does by
/// default, fragments glibc's heap: a warm login function grew from 27 MB to over 200 MB
/// of RSS in fifty logins (BENCHMARKS.md); with one reused buffer it stays flat. Clones
/// share the buffer; hashes on one instance take turns (a Lambda serves one request at a
/// time, and the work is CPU-bound anyway).
#[derive(Clone)]
pub struct PasswordHasherArgon {
    argon: Argon2<'static>,
    memory: Arc<Mutex<Vec<Block>>>,
}

impl PasswordHasherArgon {
    pub const MEMORY_KIB: u32 = 12 * 1024;
    pub const PASSES: u32 = 3;
    pub const LANES: u32 = 1;
    /// Bytes of the hash itself (argon2's default).
    const OUTPUT_LEN: usize = Params::DEFAULT_OUTPUT_LEN;

    pub fn new() -> Result<Self, HashError> {
        let params =
            Params::new(Self::MEMORY_KIB, Self::PASSES, Self::LANES, None).map_err(|e| HashError(e.to_string()))?;
        Ok(PasswordHasherArgon {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            memory: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Argon2id of `password` with `salt` at this hasher's parameters, in the reused memory.
    fn compute(&self, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), HashError> {
        let mut memory = self.memory.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if memory.is_empty() {
            memory.resize(self.argon.params().block_count(), Block::default());
        }
        self.argon
            .hash_password_into_with_memory(password, salt, out, memory.as_mut_slice())
            .map_err(|e| HashError(e.to_string()))
    }

    pub fn hash(&self, password: &str) -> Result<String, HashError> {
        let err = |e: argon2::password_hash::Error| HashError(e.to_string());
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(err)?;
        let mut out = [0u8; Self::OUTPUT_LEN];
        self.compute(password.as_bytes(), salt_bytes, &mut out)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(self.argon.params()).map_err(err)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(err)?),
        };
        Ok(phc.to_string())
    }

    /// True when `password` matches `stored`. A malformed stored hash never matches.
    pub fn verify(&self, password: &str, stored: &str) -> bool {
        match PasswordHash::new(stored) {
            Ok(parsed) => self.matches(password, &parsed),
            Err(_) => {
                self.burn(password);
                false
            }
        }
    }

    /// True when `stored` is a hash at other parameters than these (an older cost), so a
    /// login that checked it should store the password again ([`Self::hash`]). A malformed
    /// hash is not outdated: nothing can be renewed from it.
    pub fn outdated(&self, stored: &str) -> bool {
        PasswordHash::new(stored).is_ok_and(|parsed| !Self::current(&parsed))
    }

    /// Whether `stored` was made at this hasher's algorithm, version and parameters.
    fn current(stored: &PasswordHash<'_>) -> bool {
        stored.algorithm == Algorithm::Argon2id.ident()
            && stored.version == Some(Version::V0x13.into())
            && Params::try_from(stored).is_ok_and(|p| {
                (p.m_cost(), p.t_cost(), p.p_cost(), p.output_len())
                    == (Self::MEMORY_KIB, Self::PASSES, Self::LANES, Some(Self::OUTPUT_LEN))
            })
    }

    fn matches(&self, password: &str, stored: &PasswordHash<'_>) -> bool {
        let ours = Self::current(stored);
        if !ours {
            // Other parameters (a hash from before a cost change): argon2's own path.
            return self.argon.verify_password(password.as_bytes(), stored).is_ok();
        }
        let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else { return false };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else { return false };
        let mut out = [0u8; Self::OUTPUT_LEN];
        if self.compute(password.as_bytes(), salt_bytes, &mut out).is_err() {
            return false;
        }
        // `Output` compares in constant time.
        Output::new(&out).is_ok_and(|computed| computed == expected)
    }

    /// Spends the work of one verification, for an account that does not exist.
    pub fn burn(&self, password: &str) {
        if let Ok(parsed) = PasswordHash::new(DECOY) {
            let _ = self.matches(password, &parsed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ana() -> Email {
        Email::parse("ana@example.com").unwrap()
    }

    #[test]
    fn strength_rule() {
        assert_eq!(check_strength("corta", &ana()), Err(WeakPassword::TooShort));
        assert_eq!(check_strength(&"x".repeat(129), &ana()), Err(WeakPassword::TooLong));
        assert_eq!(check_strength(" Ana@Example.com ", &ana()), Err(WeakPassword::EqualsEmail));
        assert_eq!(check_strength("ñandúñandú1", &ana()), Err(WeakPassword::TooShort), "11 characters, 14 bytes");
        assert_eq!(check_strength("ñandú pirata ñoño volcán", &ana()), Ok(()), "counted in characters, not bytes");
        for guessable in ["password1234", "qwertyuiop12", &"x".repeat(128)] {
            assert_eq!(check_strength(guessable, &ana()), Err(WeakPassword::Guessable), "{guessable}");
        }
        assert_eq!(check_strength("portal-demo-2026", &ana()), Ok(()));
    }

    #[test]
    fn hashes_are_argon2id_with_their_parameters_and_verify() {
        let h = PasswordHasherArgon::new().unwrap();
        let stored = h.hash("portal-demo-2026").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"), "{stored}");
        assert!(!h.outdated(&stored));
        assert!(h.verify("portal-demo-2026", &stored));
        assert!(!h.verify("portal-demo-2027", &stored));
        assert!(!h.verify("portal-demo-2026", "not a hash"));
        assert_ne!(stored, h.hash("portal-demo-2026").unwrap(), "salted");
    }

    #[test]
    fn hashes_agree_with_argon2s_own_hashing_and_verifying() {
        use argon2::password_hash::PasswordHasher;
        let h = PasswordHasherArgon::new().unwrap();
        let ours = h.hash("portal-demo-2026").unwrap();
        assert!(h.argon.verify_password(b"portal-demo-2026", &PasswordHash::new(&ours).unwrap()).is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = h.argon.hash_password(b"portal-demo-2026", &salt).unwrap().to_string();
        assert!(h.verify("portal-demo-2026", &theirs));
        assert!(!h.verify("portal-demo-2027", &theirs));
        // A hash at other parameters (an older cost) still verifies.
        let cheaper = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8 * 1024, 1, 1, None).unwrap());
        let old = cheaper.hash_password(b"portal-demo-2026", &salt).unwrap().to_string();
        assert!(h.verify("portal-demo-2026", &old));
        assert!(!h.verify("portal-demo-2027", &old));
        assert!(h.outdated(&old), "a login stores it again");
        assert!(!h.outdated("not a hash"));
        // A clone shares the working memory.
        assert!(h.clone().verify("portal-demo-2026", &ours));
        assert_eq!(h.memory.lock().unwrap().len(), (PasswordHasherArgon::MEMORY_KIB) as usize, "one block per KiB");
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
