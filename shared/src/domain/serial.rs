//! Electronic serial numbers.
//!
//! A serial is [`Serial::LEN`] characters of an unambiguous base-32 alphabet (digits and
//! upper-case letters without I, L, O and U, so nobody reads a 1 as an I or a 0 as an O).
//! The first [`Serial::RANDOM_LEN`] characters come from the operating system's CSPRNG
//! (45 bits); the last is a check character: the sum of every value times an odd weight,
//! modulo 32. Odd weights are invertible modulo 32, so changing any single character,
//! the check character included, always changes the sum: every single typo is caught
//! before the store is read. Most swaps of two neighbours are caught as well.
//!
//! A vendor moving in from an older system keeps that system's serials: the desktop
//! programs hold them. It declares their format once ([`LegacyPattern`], the setting
//! `LEGACY_SERIAL_PATTERN` and `portal-admin import --legacy-serials`), and where a serial
//! comes in ([`SerialFormats::parse`]) one that is no portal serial but fits that format is
//! a *legacy* serial. It is never taken for a portal one, and what the portal issues (an
//! upgrade's new serial, an import's serial for an empty column) is always a portal serial.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The 32 symbols, in value order.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A serial number, portal or legacy, in its one spelling (the key it is stored under).
/// Which kind it is follows from the text: a legacy serial is one that is not a valid
/// portal serial, so the two kinds never share a spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Serial(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SerialError {
    #[error("a serial number has {expected} characters (spaces and dashes aside), this one has {found}")]
    Length { expected: usize, found: usize },
    #[error("a serial number uses only digits and the letters A to Z without I, L, O and U; found {0:?}")]
    Character(char),
    #[error("the serial number is mistyped: its check character does not match")]
    Check,
    /// Neither a portal serial (`portal` says why) nor of the declared legacy format.
    #[error("{portal}, nor does it fit the legacy serials' format")]
    NeitherFormat { portal: Box<SerialError> },
}

impl Serial {
    pub const LEN: usize = 10;
    pub const RANDOM_LEN: usize = Self::LEN - 1;

    /// Reads what a person typed: case-insensitive, spaces and dashes ignored.
    pub fn parse(input: &str) -> Result<Self, SerialError> {
        let mut values = Vec::with_capacity(Self::LEN);
        for c in input.chars() {
            if c == ' ' || c == '-' {
                continue;
            }
            let v = value_of(c).ok_or(SerialError::Character(c))?;
            values.push(v);
        }
        if values.len() != Self::LEN {
            return Err(SerialError::Length { expected: Self::LEN, found: values.len() });
        }
        let (body, check) = values.split_at(Self::RANDOM_LEN);
        if check_value(body) != check[0] {
            return Err(SerialError::Check);
        }
        Ok(Serial(values.iter().map(|&v| ALPHABET[v as usize] as char).collect()))
    }

    /// A new random serial. Uniqueness is the store's job (conditional write), not luck's.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; Self::RANDOM_LEN];
        getrandom::fill(&mut bytes)?;
        Ok(Self::from_bytes(&bytes))
    }

    /// The portal serial whose random part is made of `bytes` (5 bits of each): the
    /// operating system's randomness, or a keyed hash where a serial must come out the
    /// same on every run (an import's serial for a row without one).
    pub fn from_bytes(bytes: &[u8; Self::RANDOM_LEN]) -> Self {
        // 32 symbols = 5 bits: masking keeps every symbol equally likely.
        let body: Vec<u8> = bytes.iter().map(|b| b & 0x1f).collect();
        Self::from_body(&body)
    }

    /// A serial as the store keeps it, of either kind: the legacy format was checked when
    /// it came in, and a later change of the declared format leaves stored serials alone.
    pub fn stored(text: &str) -> Result<Self, SerialError> {
        Serial::parse(text).or_else(|portal| legacy_spelling(text).ok_or(portal))
    }

    /// Whether this is a serial of the vendor's older system rather than one the portal issued.
    pub fn is_legacy(&self) -> bool {
        Serial::parse(&self.0).is_err()
    }

    fn from_body(body: &[u8]) -> Self {
        let mut s: String = body.iter().map(|&v| ALPHABET[v as usize] as char).collect();
        s.push(ALPHABET[check_value(body) as usize] as char);
        Serial(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The most characters a legacy serial may have (the HTTP routes refuse longer paths).
pub const LEGACY_MAX_LEN: usize = 64;

/// A legacy serial's one spelling: trimmed and upper-cased, 1 to [`LEGACY_MAX_LEN`] ASCII
/// letters, digits and dashes (so it is safe in a URL path, a key and a file name), and
/// no valid portal serial.
fn legacy_spelling(input: &str) -> Option<Serial> {
    let text = input.trim().to_ascii_uppercase();
    let shaped = !text.is_empty()
        && text.len() <= LEGACY_MAX_LEN
        && text.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    (shaped && Serial::parse(&text).is_err()).then_some(Serial(text))
}

/// The format of the vendor's legacy serials: a regular expression that a serial must fit
/// as a whole, ignoring case (`^` and `$` are implied).
#[derive(Debug, Clone)]
pub struct LegacyPattern {
    source: String,
    regex: regex_lite::Regex,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LegacyPatternError(String);

impl LegacyPattern {
    pub fn new(pattern: &str) -> Result<Self, LegacyPatternError> {
        let source = pattern.trim();
        if source.is_empty() {
            return Err(LegacyPatternError("the legacy serial pattern is empty".into()));
        }
        let regex = regex_lite::Regex::new(&format!("(?i)^(?:{source})$"))
            .map_err(|e| LegacyPatternError(format!("{source:?} is not a regular expression: {e}")))?;
        Ok(LegacyPattern { source: source.to_string(), regex })
    }

    /// The pattern as the vendor wrote it.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    fn fits(&self, spelling: &str) -> bool {
        self.regex.is_match(spelling)
    }
}

/// The serial formats accepted where a serial comes in (a route's path, an event, an
/// import file): the portal's always, the legacy one when the vendor declares it.
#[derive(Debug, Clone, Default)]
pub struct SerialFormats {
    legacy: Option<LegacyPattern>,
}

impl SerialFormats {
    /// Portal serials only.
    pub fn portal() -> Self {
        SerialFormats { legacy: None }
    }

    pub fn with_legacy(pattern: LegacyPattern) -> Self {
        SerialFormats { legacy: Some(pattern) }
    }

    pub fn legacy(&self) -> Option<&LegacyPattern> {
        self.legacy.as_ref()
    }

    /// A portal serial (case and dashes as [`Serial::parse`] reads them), else a serial of
    /// the legacy format; anything else is refused here, before any store read.
    pub fn parse(&self, input: &str) -> Result<Serial, SerialError> {
        let portal = match Serial::parse(input) {
            Ok(serial) => return Ok(serial),
            Err(e) => e,
        };
        let Some(pattern) = &self.legacy else { return Err(portal) };
        match legacy_spelling(input) {
            Some(serial) if pattern.fits(serial.as_str()) => Ok(serial),
            _ => Err(SerialError::NeitherFormat { portal: Box::new(portal) }),
        }
    }
}

fn value_of(c: char) -> Option<u8> {
    let c = c.to_ascii_uppercase();
    ALPHABET.iter().position(|&a| a as char == c).map(|p| p as u8)
}

fn check_value(body: &[u8]) -> u8 {
    let sum: u32 = body.iter().enumerate().map(|(i, &v)| (2 * i as u32 + 3) * v as u32).sum();
    (sum % 32) as u8
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Serial {
    type Error = SerialError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Serial::parse(&s)
    }
}

impl From<Serial> for String {
    fn from(s: Serial) -> String {
        s.0
    }
}

impl std::str::FromStr for Serial {
    type Err = SerialError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Serial::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Serial {
        Serial::from_body(&[25, 19, 25, 22, 28, 24, 4, 26, 23])
    }

    #[test]
    fn generated_serials_parse_back_and_differ() {
        let a = Serial::generate().unwrap();
        let b = Serial::generate().unwrap();
        assert_eq!(a.as_str().len(), Serial::LEN);
        assert_eq!(Serial::parse(a.as_str()).unwrap(), a);
        assert_ne!(a, b);
        assert!(a.as_str().chars().all(|c| !"ILOU".contains(c)));
    }

    #[test]
    fn input_is_case_insensitive_and_ignores_spaces_and_dashes() {
        let s = sample();
        let typed = format!(" {}-{} {} ", &s.as_str()[..3], &s.as_str()[3..7], &s.as_str()[7..]).to_lowercase();
        assert_eq!(Serial::parse(&typed).unwrap(), s);
    }

    #[test]
    fn every_single_character_typo_is_caught() {
        for _ in 0..50 {
            let s = Serial::generate().unwrap();
            let chars: Vec<char> = s.as_str().chars().collect();
            for pos in 0..chars.len() {
                for &other in ALPHABET.iter() {
                    let other = other as char;
                    if other == chars[pos] {
                        continue;
                    }
                    let mut typo = chars.clone();
                    typo[pos] = other;
                    let typo: String = typo.into_iter().collect();
                    assert_eq!(Serial::parse(&typo), Err(SerialError::Check), "{typo} passed for {s}");
                }
            }
        }
    }

    #[test]
    fn junk_is_rejected_with_a_reason() {
        assert!(matches!(Serial::parse("ABC"), Err(SerialError::Length { found: 3, .. })));
        assert!(matches!(Serial::parse("SKSNWR4TQI"), Err(SerialError::Character('I'))));
        assert!(matches!(Serial::parse("SKSNWR4TQ!"), Err(SerialError::Character('!'))));
        assert!(matches!(Serial::parse(""), Err(SerialError::Length { found: 0, .. })));
        assert!(matches!(Serial::parse("ÑKSNWR4TQ7"), Err(SerialError::Character('Ñ'))));
    }

    fn legacy(pattern: &str) -> SerialFormats {
        SerialFormats::with_legacy(LegacyPattern::new(pattern).unwrap())
    }

    #[test]
    fn legacy_serials_fit_the_declared_pattern_and_are_never_portal_ones() {
        let formats = legacy("SAE-[0-9]{4}-[0-9]{4}");
        let old = formats.parse(" sae-1234-5678 ").unwrap();
        assert_eq!(old.as_str(), "SAE-1234-5678");
        assert!(old.is_legacy());
        assert_eq!(Serial::stored("SAE-1234-5678").unwrap(), old);
        // Without the declared format, or not fitting it: refused with the portal's reason.
        assert!(matches!(SerialFormats::portal().parse("SAE-1234-5678"), Err(SerialError::Length { found: 11, .. })));
        assert!(matches!(Serial::parse("SAE-1234-5678"), Err(SerialError::Length { .. })));
        assert!(matches!(formats.parse("SAE-1234-567"), Err(SerialError::NeitherFormat { .. })));
        assert!(formats.parse("SAE-1234-5678 extra").is_err(), "the whole serial must fit");
        // A portal serial stays a portal serial whatever the legacy pattern.
        let portal = sample();
        let broad = legacy("[0-9A-Z]{10}");
        assert_eq!(broad.parse(portal.as_str()).unwrap(), portal);
        assert!(!broad.parse(portal.as_str()).unwrap().is_legacy());
        // Only letters, digits and dashes, at most 64: safe in a path, a key and a file name.
        let anything = legacy(".*");
        for unsafe_text in ["AB/CD", "AB#CD", "AB CD", "ÑANDU", &"A".repeat(65)] {
            assert!(anything.parse(unsafe_text).is_err(), "{unsafe_text}");
        }
        assert!(LegacyPattern::new("(unclosed").is_err());
        assert!(LegacyPattern::new("  ").is_err());
    }

    #[test]
    fn serials_from_bytes_are_portal_serials() {
        let s = Serial::from_bytes(&[0xff, 0, 7, 31, 32, 200, 1, 2, 3]);
        assert_eq!(Serial::parse(s.as_str()).unwrap(), s);
        assert_eq!(Serial::from_bytes(&[0xff, 0, 7, 31, 32, 200, 1, 2, 3]), s);
        assert!(!s.is_legacy());
    }

    #[test]
    fn serde_round_trip_validates() {
        let s = sample();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Serial>(&json).unwrap(), s);
        let mut bad = s.as_str().to_string();
        let last = bad.pop().unwrap();
        bad.push(if last == '0' { '1' } else { '0' });
        assert!(serde_json::from_str::<Serial>(&format!("\"{bad}\"")).is_err());
    }
}
