//! The vendor's catalog: each system with its latest version and the current upgrade terms.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::version::Version;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// Identifies the text the customer accepted, e.g. "2022-10".
    pub version: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Short code, e.g. "SAE".
    pub system: String,
    /// Display name, e.g. "Aspel SAE".
    pub name: String,
    pub latest_version: Version,
    pub terms: Terms,
}

/// Every product by system code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    products: BTreeMap<String, Product>,
}

impl Catalog {
    pub fn new(products: impl IntoIterator<Item = Product>) -> Self {
        Catalog { products: products.into_iter().map(|p| (p.system.clone(), p)).collect() }
    }

    pub fn get(&self, system: &str) -> Option<&Product> {
        self.products.get(system)
    }

    /// The name customers know a system by; the code when the catalog lacks it.
    pub fn display_name<'a>(&'a self, system: &'a str) -> &'a str {
        self.get(system).map_or(system, |p| p.name.as_str())
    }

    pub fn len(&self) -> usize {
        self.products.len()
    }

    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }
}

/// System codes are short upper-case words ("SAE", "NOI", "BANCO").
pub fn valid_system_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}
