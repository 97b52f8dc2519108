//! The serial the portal issues for a line whose `serial` column is empty. It must be the
//! same on every run of the same file, or a second run (or the run after an interrupted
//! one) would issue a second serial for the same line. So it is not drawn at random but
//! derived: an HMAC-SHA256, keyed by the owner's account id (128 random bits that only the
//! store and the owner's own session tokens carry, so nobody can work a customer's serial
//! out from what they know of the purchase), of the line's serial facts, how many lines of
//! the same account with the same facts came before it in the file (two identical licences
//! are two serials), and an attempt number, raised past numbers that are taken (by another
//! account, or named in the file). A run after an interruption finds the account id in
//! the e-mail's login item, so it derives the same serials and finds them written.

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use shared::domain::{AccountId, Email, Serial};

use super::check::{digest, Digest};
use super::row::Facts;

/// The facts a derived serial depends on, in one text.
pub fn facts_key(facts: &Facts) -> String {
    let opt = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    format!(
        "{}|{}|{}|{}|{}|{}|{}",
        facts.system,
        facts.version,
        facts.users,
        facts.plan.as_str(),
        facts.billing_period.map(|b| b.as_str()).unwrap_or_default(),
        opt(facts.next_payment_on),
        opt(facts.activated_on),
    )
}

/// The serial issued for the `occurrence`-th line of `account` with these facts, at `attempt`.
pub fn derived(account: &AccountId, facts_key: &str, occurrence: u32, attempt: u32) -> Serial {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(account.as_str().as_bytes()).expect("HMAC takes any key");
    mac.update(b"serial-portal import serial\n");
    mac.update(facts_key.as_bytes());
    mac.update(format!("\n{occurrence}\n{attempt}").as_bytes());
    let out = mac.finalize().into_bytes();
    let mut bytes = [0u8; Serial::RANDOM_LEN];
    bytes.copy_from_slice(&out[..Serial::RANDOM_LEN]);
    Serial::from_bytes(&bytes)
}

/// How many lines of each account with the same facts were seen so far, in file order.
#[derive(Default)]
pub struct Occurrences(HashMap<Digest, u32>);

impl Occurrences {
    pub fn next(&mut self, email: &Email, facts_key: &str) -> u32 {
        let n = self.0.entry(digest(&[email.as_str(), facts_key])).or_insert(0);
        let this = *n;
        *n += 1;
        this
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_serials_are_stable_and_differ_by_account_occurrence_and_attempt() {
        let a = AccountId::parse("0123456789abcdef0123456789abcdef").unwrap();
        let b = AccountId::parse("fedcba9876543210fedcba9876543210").unwrap();
        let key = "SAE|7.0|1|license|||";
        let first = derived(&a, key, 0, 0);
        assert_eq!(derived(&a, key, 0, 0), first, "the same line gives the same serial");
        assert!(!first.is_legacy());
        let others = [
            derived(&b, key, 0, 0),
            derived(&a, key, 1, 0),
            derived(&a, key, 0, 1),
            derived(&a, "NOI|11.0|1|license|||", 0, 0),
        ];
        for other in others {
            assert_ne!(other, first);
        }
    }
}
