//! Electronic serial numbers.
//!
//! A serial is [`Serial::LEN`] characters of an unambiguous base-32 alphabet (digits and
//! upper-case letters without I, L, O and U, so nobody reads a 1 as an I or a 0 as an O).
//! The first [`Serial::RANDOM_LEN`] characters come from the operating system's CSPRNG
//! (45 bits); the last is a check character: the sum of every value times an odd weight,
//! modulo 32. Odd weights are invertible modulo 32, so changing any single character,
//! the check character included, always changes the sum: every single typo is caught
//! before the store is read. Most swaps of two neighbours are caught as well.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The 32 symbols, in value order.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

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
        // 32 symbols = 5 bits: masking keeps every symbol equally likely.
        let body: Vec<u8> = bytes.iter().map(|b| b & 0x1f).collect();
        Ok(Self::from_body(&body))
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
