//! The vendor's catalog: each system with its latest version and the current upgrade terms.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::version::Version;

/// A system's short code ("SAE", "NOI", "BANCO"): upper-case letters, digits and dashes,
/// at most 20. Parsed once where it enters (the catalog, an operator's command).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SystemCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a system code (upper-case letters, digits and dashes, at most 20)")]
pub struct SystemCodeError(pub String);

impl SystemCode {
    pub fn parse(s: &str) -> Result<Self, SystemCodeError> {
        let ok = !s.is_empty()
            && s.len() <= 20
            && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(SystemCode(s.to_string()))
        } else {
            Err(SystemCodeError(s.chars().take(40).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SystemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// Identifies the text the customer accepted, e.g. "2022-10".
    pub version: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub system: SystemCode,
    /// Display name, e.g. "Aspel SAE".
    pub name: String,
    pub latest_version: Version,
    pub terms: Terms,
}

/// Every product by system code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    products: BTreeMap<SystemCode, Product>,
}

impl Catalog {
    pub fn new(products: impl IntoIterator<Item = Product>) -> Self {
        Catalog { products: products.into_iter().map(|p| (p.system.clone(), p)).collect() }
    }

    pub fn get(&self, system: &SystemCode) -> Option<&Product> {
        self.products.get(system)
    }

    /// The name customers know a system by; the code when the catalog lacks it.
    pub fn display_name<'a>(&'a self, system: &'a SystemCode) -> &'a str {
        self.get(system).map_or(system.as_str(), |p| p.name.as_str())
    }

    pub fn len(&self) -> usize {
        self.products.len()
    }

    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }
}
