//! Verifies the signed answers of the serial portal.
//!
//! `POST /serials/{serial}/validate` answers with a `license` field: a compact JWS (RFC 7515)
//! signed with EdDSA over Ed25519 (RFC 8037), header `{"alg":"EdDSA","typ":"JWT","kid":"…"}`.
//! Offline license files carry the same JWS (with an `installation` claim) in the same field.
//! The public keys are the JWKS (RFC 7517) served at `GET /.well-known/jwks.json`.
//!
//! [`verify`] takes the JWS, the JWKS text, what the caller expects and the current time, and
//! either returns the signed [`Facts`] or says why it refuses ([`Refusal`]). It checks, in this
//! order: the JWS is well formed and its `alg` is `EdDSA`; its `kid` names a key of the JWKS;
//! the signature is that key's; the payload has every field with its type; `iss` is
//! [`ISSUER`]; `exp` has not passed (with [`CLOCK_SKEW_SECS`] of leeway); and the serial,
//! nonce and installation are the expected ones, for each one the caller gives.
//!
//! What the facts mean (an `inactive` or `expired` status, a `valid_until` in the past) is
//! the caller's decision: a verified answer can still say "stop".
//!
//! ```no_run
//! use std::time::SystemTime;
//! use serial_verifier::{verify, Expect, Status};
//!
//! # fn answer_license() -> String { String::new() }
//! # fn embedded_jwks() -> &'static str { "" }
//! let expect = Expect {
//!     serial: Some("SKSNWR4TQD".into()),
//!     nonce: Some("b3f1c0d2".into()), // the one sent with the request
//!     installation: None,
//! };
//! match verify(&answer_license(), embedded_jwks(), &expect, SystemTime::now()) {
//!     Ok(facts) if facts.status == Status::Active => { /* run */ }
//!     Ok(facts) => eprintln!("serial {} is {}", facts.serial, facts.status),
//!     Err(refusal) => eprintln!("not a valid answer: {refusal}"),
//! }
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The `iss` of every answer and license file of the serial portal.
pub const ISSUER: &str = "serial-portal";

/// Clock skew allowed past `exp`, in seconds: an answer is refused from `exp + 60` on.
pub const CLOCK_SKEW_SECS: u64 = 60;

/// Why a license is refused. Each variant is one reason; [`Refusal::code`] names it in a
/// stable word (for logs and the CLI).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not a compact JWS, not `alg: EdDSA`, no `kid`, or a payload without a field or with
    /// one of the wrong type.
    #[error("malformed license: {0}")]
    Malformed(String),
    /// The JWKS given is not a JWKS, or its key with the license's `kid` is not an Ed25519
    /// signing key. The license may be fine: the JWKS is at fault.
    #[error("unusable JWKS: {0}")]
    BadJwks(String),
    /// The license's `kid` is not in the JWKS (an unknown signer, or a JWKS older than the
    /// key: fetch `/.well-known/jwks.json` again).
    #[error("unknown key: the JWKS has no key {kid:?}")]
    UnknownKey { kid: String },
    /// The signature is not the key's over this header and payload: changed or forged.
    #[error("bad signature: the license was not signed by key {kid:?} as it is")]
    BadSignature { kid: String },
    /// `exp` has passed (by more than [`CLOCK_SKEW_SECS`]).
    #[error("expired: exp {exp} is past (now {now}, {CLOCK_SKEW_SECS} s of clock skew allowed)")]
    Expired { exp: u64, now: u64 },
    /// Signed by a known key, but `iss` is not [`ISSUER`].
    #[error("not from this issuer: iss is {iss:?}, expected {ISSUER:?}")]
    NotFromIssuer { iss: String },
    /// The license is for another serial.
    #[error("wrong serial: the license is for {found:?}, expected {expected:?}")]
    WrongSerial { expected: String, found: String },
    /// The answer does not echo the nonce sent with the request (a replayed answer).
    #[error("wrong nonce: the license has {}, expected {expected:?}", shown(.found))]
    WrongNonce { expected: String, found: Option<String> },
    /// The license file is for another installation (or for none).
    #[error("wrong installation: the license has {}, expected {expected:?}", shown(.found))]
    WrongInstallation { expected: String, found: Option<String> },
}

/// An optional claim for a message: quoted, or "none".
fn shown(value: &Option<String>) -> String {
    value.as_ref().map_or_else(|| "none".to_string(), |v| format!("{v:?}"))
}

impl Refusal {
    /// A stable one-word name of the reason: `malformed`, `bad_jwks`, `unknown_key`,
    /// `bad_signature`, `expired`, `not_from_issuer`, `wrong_serial`, `wrong_nonce`,
    /// `wrong_installation`.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Malformed(_) => "malformed",
            Refusal::BadJwks(_) => "bad_jwks",
            Refusal::UnknownKey { .. } => "unknown_key",
            Refusal::BadSignature { .. } => "bad_signature",
            Refusal::Expired { .. } => "expired",
            Refusal::NotFromIssuer { .. } => "not_from_issuer",
            Refusal::WrongSerial { .. } => "wrong_serial",
            Refusal::WrongNonce { .. } => "wrong_nonce",
            Refusal::WrongInstallation { .. } => "wrong_installation",
        }
    }
}

/// What the caller expects of the license; `None` checks nothing for that field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expect {
    /// The serial the program holds. Compared as the portal reads serials: case-insensitive,
    /// spaces and dashes ignored (`sksn-wr4t-qd` matches `SKSNWR4TQD`).
    pub serial: Option<String>,
    /// The nonce sent in this validation request: the answer must echo it exactly. Give it
    /// for online answers; offline license files have none.
    pub nonce: Option<String>,
    /// This installation's id: an offline license file must name it exactly. Give it when
    /// reading a license file; online answers have none.
    pub installation: Option<String>,
}

/// A serial's state, as signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A license, or a subscription paid up.
    Active,
    /// A subscription not renewed.
    Expired,
    /// Upgraded: usable until `valid_until`.
    Superseded,
    /// Upgraded and past `valid_until`: the program must stop.
    Inactive,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Expired => "expired",
            Status::Superseded => "superseded",
            Status::Inactive => "inactive",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A calendar date, `YYYY-MM-DD` in the payload (a real date: no 2025-02-30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// `None` unless it is a date of the Gregorian calendar.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days).contains(&day).then_some(Date { year, month, day })
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }
}

/// Not a `YYYY-MM-DD` date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a YYYY-MM-DD date: {0:?}")]
pub struct DateError(String);

impl FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Date, DateError> {
        let err = || DateError(s.to_string());
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
            return Err(err());
        }
        let year = s[0..4].parse().map_err(|_| err())?;
        let month = s[5..7].parse().map_err(|_| err())?;
        let day = s[8..10].parse().map_err(|_| err())?;
        Date::new(year, month, day).ok_or_else(err)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The signed facts of a verified license: its payload, typed (`iss` is [`ISSUER`]), and
/// the `kid` of the key that signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub serial: String,
    pub system: String,
    pub version: String,
    pub users: u32,
    pub status: Status,
    pub valid_until: Option<Date>,
    pub next_payment_on: Option<Date>,
    /// The company name as registered on the account.
    pub company: String,
    /// The nonce of the request, echoed (`None` in license files).
    pub nonce: Option<String>,
    /// The installation of an offline license file (`None` in online answers).
    pub installation: Option<String>,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Expires at, Unix seconds.
    pub exp: u64,
    /// The key that signed it.
    pub kid: String,
}

/// The payload as signed. Unknown fields are ignored (newer portals may add some);
/// `valid_until`, `next_payment_on` and `nonce` may be `null` or absent.
#[derive(Deserialize)]
struct Payload {
    iss: String,
    serial: String,
    system: String,
    version: String,
    users: u32,
    status: Status,
    valid_until: Option<Date>,
    next_payment_on: Option<Date>,
    company: String,
    nonce: Option<String>,
    installation: Option<String>,
    iat: u64,
    exp: u64,
}

/// A parsed JWKS: parse it once with [`Jwks::parse`] and verify many licenses with
/// [`Jwks::verify`], or call [`verify`] with the JWKS text.
#[derive(Debug, Clone)]
pub struct Jwks {
    /// Each key with a `kid`, in the JWKS's order: its decoding key, or why it is unusable.
    keys: Vec<(String, Result<DecodingKey, String>)>,
}

impl Jwks {
    /// Reads a JWKS: `{"keys": [...]}`. Keys without a `kid` are ignored (no license can name
    /// them), and so are keys of other types until a license names one.
    pub fn parse(jwks: &str) -> Result<Jwks, Refusal> {
        let value: serde_json::Value =
            serde_json::from_str(jwks).map_err(|e| Refusal::BadJwks(format!("not JSON: {e}")))?;
        let entries = value
            .get("keys")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| Refusal::BadJwks("no \"keys\" array".into()))?;
        let keys = entries
            .iter()
            .filter_map(|entry| {
                let kid = entry.get("kid")?.as_str()?.to_string();
                Some((kid, ed25519_key(entry)))
            })
            .collect();
        Ok(Jwks { keys })
    }

    /// The key ids of the set, in its order.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(kid, _)| kid.as_str())
    }

    /// Verifies `license` (the compact JWS) against this JWKS; see [`verify`].
    pub fn verify(&self, license: &str, expect: &Expect, now: SystemTime) -> Result<Facts, Refusal> {
        let token = license.trim();
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(Refusal::Malformed("not a compact JWS (three non-empty parts joined by dots)".into()));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| Refusal::Malformed(format!("header: {e}")))?;
        if header.alg != Algorithm::EdDSA {
            return Err(Refusal::Malformed(format!("alg is {:?}, only EdDSA is accepted", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| Refusal::Malformed("the header has no kid".into()))?;
        let key = match self.keys.iter().find(|(k, _)| *k == kid) {
            None => return Err(Refusal::UnknownKey { kid }),
            Some((_, Err(why))) => return Err(Refusal::BadJwks(format!("key {kid:?}: {why}"))),
            Some((_, Ok(key))) => key,
        };

        // Only EdDSA; exp is checked below against the caller's clock, not jsonwebtoken's.
        // An `aud` (ours have none) is refused by jsonwebtoken: such a token is for someone else.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let payload = match jsonwebtoken::decode::<Payload>(token, key, &validation) {
            Ok(data) => data.claims,
            Err(e) => {
                return Err(match e.kind() {
                    ErrorKind::InvalidSignature => Refusal::BadSignature { kid },
                    ErrorKind::InvalidEddsaKey | ErrorKind::InvalidKeyFormat => {
                        Refusal::BadJwks(format!("key {kid:?}: {e}"))
                    }
                    _ => Refusal::Malformed(e.to_string()),
                });
            }
        };

        if payload.iss != ISSUER {
            return Err(Refusal::NotFromIssuer { iss: payload.iss });
        }
        let now = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        if now >= payload.exp.saturating_add(CLOCK_SKEW_SECS) {
            return Err(Refusal::Expired { exp: payload.exp, now });
        }
        if let Some(expected) = &expect.serial {
            if normalize_serial(expected) != normalize_serial(&payload.serial) {
                return Err(Refusal::WrongSerial { expected: expected.clone(), found: payload.serial });
            }
        }
        if let Some(expected) = &expect.nonce {
            if payload.nonce.as_ref() != Some(expected) {
                return Err(Refusal::WrongNonce { expected: expected.clone(), found: payload.nonce });
            }
        }
        if let Some(expected) = &expect.installation {
            if payload.installation.as_ref() != Some(expected) {
                return Err(Refusal::WrongInstallation { expected: expected.clone(), found: payload.installation });
            }
        }

        Ok(Facts {
            serial: payload.serial,
            system: payload.system,
            version: payload.version,
            users: payload.users,
            status: payload.status,
            valid_until: payload.valid_until,
            next_payment_on: payload.next_payment_on,
            company: payload.company,
            nonce: payload.nonce,
            installation: payload.installation,
            iat: payload.iat,
            exp: payload.exp,
            kid,
        })
    }
}

/// Verifies a license (the compact JWS of an answer's or license file's `license` field)
/// against the JWKS text (the body of `GET /.well-known/jwks.json`), at time `now`.
///
/// Refuses, in this order: [`Refusal::Malformed`] (also for an `alg` other than EdDSA),
/// [`Refusal::BadJwks`], [`Refusal::UnknownKey`], [`Refusal::BadSignature`],
/// [`Refusal::Malformed`] again for a payload without its fields, [`Refusal::NotFromIssuer`],
/// [`Refusal::Expired`], [`Refusal::WrongSerial`], [`Refusal::WrongNonce`],
/// [`Refusal::WrongInstallation`].
pub fn verify(license: &str, jwks: &str, expect: &Expect, now: SystemTime) -> Result<Facts, Refusal> {
    Jwks::parse(jwks)?.verify(license, expect, now)
}

/// The JWS in a text that is either the bare JWS or a JSON object with a string `license`
/// field (a whole validation answer, or an offline license file).
pub fn license_of(text: &str) -> Result<String, Refusal> {
    let text = text.trim();
    if !text.starts_with('{') {
        return Ok(text.to_string());
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Refusal::Malformed(format!("not JSON: {e}")))?;
    value
        .get("license")
        .and_then(serde_json::Value::as_str)
        .map(|s| s.trim().to_string())
        .ok_or_else(|| Refusal::Malformed("a JSON object without a string \"license\" field".into()))
}

/// An Ed25519 signing key of a JWK, or why it is not one.
fn ed25519_key(entry: &serde_json::Value) -> Result<DecodingKey, String> {
    let text = |name: &str| entry.get(name).and_then(serde_json::Value::as_str);
    if let Some(usage) = text("use") {
        if usage != "sig" {
            return Err(format!("its use is {usage:?}, not \"sig\""));
        }
    }
    if let Some(alg) = text("alg") {
        if alg != "EdDSA" {
            return Err(format!("its alg is {alg:?}, not \"EdDSA\""));
        }
    }
    if text("kty") != Some("OKP") || text("crv") != Some("Ed25519") {
        return Err("not an Ed25519 key (kty OKP, crv Ed25519)".into());
    }
    let jwk: Jwk = serde_json::from_value(entry.clone()).map_err(|e| format!("not a JWK: {e}"))?;
    if !matches!(&jwk.algorithm, AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519) {
        return Err("not an Ed25519 key (kty OKP, crv Ed25519)".into());
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("its x is not base64url: {e}"))?;
    // jsonwebtoken reads the first 32 bytes of x (and panics on fewer): insist on exactly 32.
    match key.try_get_as_bytes() {
        Ok(bytes) if bytes.len() == 32 => Ok(key),
        _ => Err("its x is not a 32-byte Ed25519 public key".into()),
    }
}

/// A serial as the portal reads it: upper case, spaces and dashes left out.
fn normalize_serial(s: &str) -> String {
    s.chars().filter(|c| *c != ' ' && *c != '-').map(|c| c.to_ascii_uppercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_real_calendar_dates() {
        assert_eq!("2024-02-29".parse::<Date>().unwrap(), Date::new(2024, 2, 29).unwrap());
        assert_eq!(Date::new(2026, 1, 5).unwrap().to_string(), "2026-01-05");
        for bad in ["2025-02-29", "1900-02-29", "2025-13-01", "2025-00-10", "2025-04-31", "2025-4-01", "+025-04-01"] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
        assert!("2000-02-29".parse::<Date>().is_ok());
    }

    #[test]
    fn serials_compare_as_the_portal_reads_them() {
        assert_eq!(normalize_serial("sksn-wr4t qd"), "SKSNWR4TQD");
    }

    #[test]
    fn license_of_takes_the_license_field_or_the_bare_text() {
        assert_eq!(license_of("  a.b.c\n").unwrap(), "a.b.c");
        assert_eq!(license_of(r#"{"status":"active","license":"a.b.c"}"#).unwrap(), "a.b.c");
        assert_eq!(license_of(r#"{"license":7}"#).unwrap_err().code(), "malformed");
    }

    #[test]
    fn jwks_keys_that_are_not_ed25519_signing_keys_are_unusable() {
        let jwks = r#"{"keys":[
            {"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"short"},
            {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"enc","use":"enc"},
            {"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA","kid":"ec"},
            {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"ok"},
            {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
        ]}"#;
        let set = Jwks::parse(jwks).unwrap();
        assert_eq!(set.kids().collect::<Vec<_>>(), ["short", "enc", "ec", "ok"]);
        let usable: Vec<bool> = set.keys.iter().map(|(_, k)| k.is_ok()).collect();
        assert_eq!(usable, [false, false, false, true]);
        assert_eq!(Jwks::parse("[]").unwrap_err().code(), "bad_jwks");
        assert_eq!(Jwks::parse("nope").unwrap_err().code(), "bad_jwks");
    }
}
