//! The catalog: one item per product (`CATALOG` / `PRODUCT#<system>`), read with one Query.

use super::attrs::Attrs;
use super::{condition_met, s, DynamoStore, Item, Key};
use crate::domain::{Product, SystemCode, Terms};
use crate::store::{CatalogReader, CatalogWriter, StoreResult};

const PARTITION: &str = "CATALOG";
const PREFIX: &str = "PRODUCT#";

pub fn product(system: &SystemCode) -> Key {
    Key::new(PARTITION, format!("{PREFIX}{system}"))
}

fn product_from(item: &Item) -> StoreResult<Product> {
    let a = Attrs::new(item);
    Ok(Product {
        system: a.system("system")?,
        name: a.str("name")?.to_string(),
        latest_version: a.version("latest_version")?,
        terms: Terms { version: a.str("terms_version")?.to_string(), text: a.str("terms_text")?.to_string() },
    })
}

impl CatalogReader for DynamoStore {
    async fn products(&self) -> StoreResult<Vec<Product>> {
        let items = self.query_prefix("read catalog", PARTITION, PREFIX, None).await?;
        items.iter().map(product_from).collect()
    }
}

impl CatalogWriter for DynamoStore {
    async fn put_product(&self, p: &Product) -> StoreResult<()> {
        self.put("put product", product_item(p), None).await
    }

    async fn add_product(&self, p: &Product) -> StoreResult<bool> {
        condition_met(self.put("add product", product_item(p), Some("attribute_not_exists(pk)")).await)
    }
}

fn product_item(p: &Product) -> Item {
    let mut item = product(&p.system).item();
    item.insert("type".into(), s("product"));
    item.insert("system".into(), s(p.system.as_str()));
    item.insert("name".into(), s(&p.name));
    item.insert("latest_version".into(), s(p.latest_version.as_str()));
    item.insert("terms_version".into(), s(&p.terms.version));
    item.insert("terms_text".into(), s(&p.terms.text));
    item
}
