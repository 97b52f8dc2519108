//! Two-step verification with TOTP (RFC 6238 as authenticator apps expect it: HMAC-SHA-1,
//! 30-second steps, 6 digits), and the recovery codes that stand in for the app.
//!
//! A code is accepted once: [`accepted_step`] only takes a step after the last accepted
//! one, and the store keeps that step with a conditional write, so the same code (or an
//! older one still inside the window) is refused afterwards. The one-step window on either
//! side is what apps and clocks need (RFC 6238 section 5.2).

use std::fmt;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::account::AccountId;
use super::serial::ALPHABET;

pub const STEP_SECONDS: u64 = 30;
pub const DIGITS: u8 = 6;
/// 160 bits, the HMAC-SHA-1 key size RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// Steps accepted on either side of the current one.
pub const SKEW_STEPS: u64 = 1;
/// Recovery codes given when two-step verification is turned on.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code (dashes aside): 60 random bits.
pub const RECOVERY_CODE_LEN: usize = 12;

/// A TOTP secret. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = vec![0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(TotpSecret(bytes))
    }

    /// A secret read back (decrypted) from the store; `None` if it cannot be one of ours.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() == SECRET_BYTES).then_some(TotpSecret(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// RFC 4648 base32 without padding, as apps take a secret typed by hand.
    pub fn base32(&self) -> String {
        Secret::from(self.0.as_slice()).to_base32()
    }

    fn totp(&self) -> Totp {
        // Skew 0: the window is walked step by step in `accepted_step`, so that steps
        // already used are never tried.
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_skew(0)
            .with_step_duration(STEP_SECONDS)
            .with_secret(self.0.as_slice())
            .build_noncompliant()
    }

    /// The code of the step that contains `at` (for tests and tools).
    pub fn code_at(&self, at: DateTime<Utc>) -> String {
        self.totp().generate(unix(at)).to_string()
    }
}

/// The `otpauth://` URI an app reads from a QR code (Google Authenticator's key URI
/// format): the label is `<issuer>:<account name>`, and the issuer is repeated as a
/// parameter for the apps that read only that.
pub fn otpauth_uri(secret: &TotpSecret, issuer: &str, account_name: &str) -> String {
    format!(
        "otpauth://totp/{issuer_path}:{name}?secret={secret}&issuer={issuer_query}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        issuer_path = percent_encode(issuer),
        name = percent_encode(account_name),
        secret = secret.base32(),
        issuer_query = percent_encode(issuer),
    )
}

/// Everything but RFC 3986's unreserved characters is percent-encoded (a space as %20,
/// which every app reads; `+` would not be read as a space in a path).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn unix(at: DateTime<Utc>) -> u64 {
    at.timestamp().max(0) as u64
}

/// The step `at` falls in.
pub fn step_at(at: DateTime<Utc>) -> u64 {
    unix(at) / STEP_SECONDS
}

/// What a person typed as an app's code: spaces dropped (apps show "123 456").
pub fn typed_totp_code(input: &str) -> Option<String> {
    let code: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// The step whose code `code` is, within one step of `now` and after `last_accepted` (the
/// step of the last code accepted, if any); `None` when it is wrong, outside the window or
/// already used. Codes are compared in constant time (totp-rs's `Token`).
pub fn accepted_step(secret: &TotpSecret, code: &str, now: DateTime<Utc>, last_accepted: Option<u64>) -> Option<u64> {
    let code = typed_totp_code(code)?;
    let totp = secret.totp();
    let current = step_at(now);
    (current.saturating_sub(SKEW_STEPS)..=current + SKEW_STEPS)
        .filter(|step| last_accepted.is_none_or(|last| *step > last))
        .find(|step| totp.check(&code, step * STEP_SECONDS).is_some())
}

/// A recovery code as shown once: `XXXX-XXXX-XXXX` of the serials' alphabet.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(..)")
    }
}

impl RecoveryCode {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; RECOVERY_CODE_LEN];
        getrandom::fill(&mut bytes)?;
        // 32 symbols: the low 5 bits of a random byte are uniform.
        Ok(RecoveryCode(bytes.iter().map(|b| ALPHABET[(b & 31) as usize] as char).collect()))
    }

    /// Ten fresh codes.
    pub fn generate_set() -> Result<Vec<Self>, getrandom::Error> {
        (0..RECOVERY_CODES).map(|_| Self::generate()).collect()
    }

    /// What a person typed: case, spaces and dashes ignored, the serials' look-alikes read
    /// as they are meant (O as 0, I and L as 1); `None` if it cannot be a recovery code.
    pub fn parse(input: &str) -> Option<Self> {
        let mut code = String::with_capacity(RECOVERY_CODE_LEN);
        for c in input.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return None;
            }
            code.push(c);
        }
        (code.len() == RECOVERY_CODE_LEN).then_some(RecoveryCode(code))
    }

    /// As shown to the customer, in groups of four.
    pub fn display(&self) -> String {
        let chunks: Vec<&str> = (0..RECOVERY_CODE_LEN).step_by(4).map(|i| &self.0[i..i + 4]).collect();
        chunks.join("-")
    }

    /// What the store keeps: SHA-256 of the account and the code, so a code of one account
    /// is no code of another and the table alone does not give the codes back.
    pub fn digest(&self, account: &AccountId) -> String {
        let hash = Sha256::digest(format!("recovery:{account}:{}", self.0).as_bytes());
        hash.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A code as typed at a second step: the app's digits or a recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    Totp(String),
    Recovery(RecoveryCode),
}

impl SecondFactor {
    /// `None`: neither shape (answered as a wrong code).
    pub fn parse(input: &str) -> Option<Self> {
        typed_totp_code(input)
            .map(SecondFactor::Totp)
            .or_else(|| RecoveryCode::parse(input).map(SecondFactor::Recovery))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// RFC 6238 appendix B's SHA-1 seed ("12345678901234567890"); its 8-digit values
    /// end in these 6 digits.
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    #[test]
    fn codes_are_rfc_6238_sha1_30_seconds_6_digits() {
        let s = rfc_secret();
        for (time, rfc8) in
            [(59, "94287082"), (1111111109, "07081804"), (1234567890, "89005924"), (2000000000, "69279037")]
        {
            assert_eq!(s.code_at(at(time)), rfc8[2..], "T = {time}");
        }
        assert_eq!(s.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn a_code_is_accepted_within_one_step_and_once() {
        let s = rfc_secret();
        let now = at(1_700_000_015);
        let step = step_at(now);
        assert_eq!(accepted_step(&s, &s.code_at(now), now, None), Some(step));
        assert_eq!(accepted_step(&s, &s.code_at(at(1_700_000_015 - 30)), now, None), Some(step - 1), "previous step");
        assert_eq!(accepted_step(&s, &s.code_at(at(1_700_000_015 + 30)), now, None), Some(step + 1), "next step");
        assert_eq!(accepted_step(&s, &s.code_at(at(1_700_000_015 - 60)), now, None), None, "two steps old");
        assert_eq!(accepted_step(&s, &s.code_at(now), now, Some(step)), None, "the same code again");
        assert_eq!(accepted_step(&s, &s.code_at(at(1_700_000_015 - 30)), now, Some(step)), None, "an older one");
        assert_eq!(accepted_step(&s, &s.code_at(at(1_700_000_015 + 30)), now, Some(step)), Some(step + 1));
        let spaced = format!("{} {}", &s.code_at(now)[..3], &s.code_at(now)[3..]);
        assert_eq!(accepted_step(&s, &spaced, now, None), Some(step), "as apps show it");
        for bad in ["", "12345", "1234567", "abcdef", "+12345", "１２３４５６"] {
            assert_eq!(accepted_step(&s, bad, now, None), None, "{bad}");
        }
        let other = TotpSecret::generate().unwrap();
        assert_ne!(other, s);
        assert_eq!(format!("{other:?}"), "TotpSecret(..)", "no secret in logs");
    }

    #[test]
    fn the_uri_names_issuer_account_and_the_parameters() {
        let uri = otpauth_uri(&rfc_secret(), "Aspel Portal", "ana+1@example.com");
        assert_eq!(
            uri,
            "otpauth://totp/Aspel%20Portal:ana%2B1%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Aspel%20Portal&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn recovery_codes_are_random_typed_loosely_and_kept_as_digests() {
        let codes = RecoveryCode::generate_set().unwrap();
        assert_eq!(codes.len(), 10);
        let shown: Vec<String> = codes.iter().map(RecoveryCode::display).collect();
        for s in &shown {
            assert_eq!(s.len(), 14);
            assert!(s.chars().enumerate().all(|(i, c)| if i % 5 == 4 {
                c == '-'
            } else {
                ALPHABET.contains(&(c as u8))
            }));
        }
        let mut unique = shown.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        let code = &codes[0];
        let typed = shown[0].to_lowercase().replace('-', " ");
        assert_eq!(RecoveryCode::parse(&typed).as_ref(), Some(code));
        assert_eq!(RecoveryCode::parse("0000-1111-2222"), RecoveryCode::parse("oooo-iiii-2222"), "look-alikes");
        for bad in ["", "ABCD-EFGH-JKM", "ABCD-EFGH-JKMNP", "ABCD-EFGH-JKMÑ", "ABCD-EFGH-JKMU"] {
            assert_eq!(RecoveryCode::parse(bad), None, "{bad}");
        }
        let (a, b) = (AccountId::generate().unwrap(), AccountId::generate().unwrap());
        assert_eq!(code.digest(&a), code.digest(&a));
        assert_ne!(code.digest(&a), code.digest(&b), "per account");
        assert!(!code.digest(&a).contains(&shown[0][..4]));
        assert_eq!(format!("{code:?}"), "RecoveryCode(..)");
    }

    #[test]
    fn a_second_factor_is_the_apps_digits_or_a_recovery_code() {
        assert_eq!(SecondFactor::parse(" 123 456 "), Some(SecondFactor::Totp("123456".into())));
        assert!(matches!(SecondFactor::parse("abcd-efgh-jkmn"), Some(SecondFactor::Recovery(_))));
        assert_eq!(SecondFactor::parse("12345"), None);
    }
}
