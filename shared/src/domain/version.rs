//! Product versions such as "7.0" or "10.0", compared as numbers (10.0 is newer than 9.0).

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Version {
    text: String,
    parts: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a version is numbers separated by dots, like 8.0; got {0:?}")]
pub struct VersionError(pub String);

impl Version {
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        let text = s.trim();
        if text.is_empty() || text.len() > 20 {
            return Err(VersionError(s.to_string()));
        }
        let parts = text
            .split('.')
            .map(|p| if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) { None } else { p.parse().ok() })
            .collect::<Option<Vec<u32>>>()
            .ok_or_else(|| VersionError(s.to_string()))?;
        Ok(Version { text: text.to_string(), parts })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn significant(&self) -> &[u32] {
        // "8" and "8.0" are the same version.
        let end = self.parts.iter().rposition(|&p| p != 0).map_or(0, |i| i + 1);
        &self.parts[..end]
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.significant().cmp(other.significant())
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.significant() == other.significant()
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl TryFrom<String> for Version {
    type Error = VersionError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Version::parse(&s)
    }
}

impl From<Version> for String {
    fn from(v: Version) -> String {
        v.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn versions_compare_as_numbers() {
        assert!(v("10.0") > v("9.0"));
        assert!(v("8.0") > v("7.0"));
        assert!(v("7.10") > v("7.9"));
        assert_eq!(v("8").cmp(&v("8.0")), Ordering::Equal);
    }

    #[test]
    fn malformed_versions_are_rejected() {
        for bad in ["", "a", "8.", ".8", "8..0", "v8", "8.0-beta", "-1"] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
    }
}
