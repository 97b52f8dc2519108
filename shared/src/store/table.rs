//! The table, as `template.yaml` declares it. The template is the one definition:
//! `portal-admin init` and the tests create their tables from it, so they cannot drift.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, StreamSpecification,
    StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use serde_yaml::Value;

use super::StoreError;

/// The SAM template, embedded at build time.
pub const TEMPLATE: &str = include_str!("../../../template.yaml");
/// The table's logical id in the template.
pub const TABLE_RESOURCE: &str = "PortalTable";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDefinition {
    pub attributes: Vec<(String, String)>,
    pub key_schema: Vec<(String, String)>,
    pub billing_mode: String,
    pub ttl_attribute: Option<String>,
    /// The stream's view type (`NEW_IMAGE`): the outbox's events leave through it.
    pub stream_view_type: Option<String>,
}

impl TableDefinition {
    /// Reads the table's properties from the template text.
    pub fn from_template(template: &str) -> Result<Self, String> {
        let doc: Value = serde_yaml::from_str(template).map_err(|e| format!("template.yaml is not YAML: {e}"))?;
        let props = &doc["Resources"][TABLE_RESOURCE]["Properties"];
        if props.is_null() {
            return Err(format!("template.yaml has no Resources.{TABLE_RESOURCE}.Properties"));
        }
        let pairs = |list: &Value, a: &str, b: &str| -> Result<Vec<(String, String)>, String> {
            list.as_sequence()
                .ok_or_else(|| format!("{TABLE_RESOURCE}: expected a list with {a} and {b}"))?
                .iter()
                .map(|e| match (e[a].as_str(), e[b].as_str()) {
                    (Some(x), Some(y)) => Ok((x.to_string(), y.to_string())),
                    _ => Err(format!("{TABLE_RESOURCE}: an entry lacks {a} or {b}")),
                })
                .collect()
        };
        let attributes = pairs(&props["AttributeDefinitions"], "AttributeName", "AttributeType")?;
        let key_schema = pairs(&props["KeySchema"], "AttributeName", "KeyType")?;
        if !props["GlobalSecondaryIndexes"].is_null() || !props["LocalSecondaryIndexes"].is_null() {
            return Err(format!("{TABLE_RESOURCE}: secondary indexes are not supported by portal-admin init yet"));
        }
        let billing_mode = props["BillingMode"].as_str().unwrap_or("PROVISIONED").to_string();
        let ttl = &props["TimeToLiveSpecification"];
        let ttl_attribute = match ttl["Enabled"].as_bool() {
            Some(true) => ttl["AttributeName"].as_str().map(str::to_string),
            _ => None,
        };
        let stream_view_type = props["StreamSpecification"]["StreamViewType"].as_str().map(str::to_string);
        Ok(TableDefinition { attributes, key_schema, billing_mode, ttl_attribute, stream_view_type })
    }

    pub fn from_embedded_template() -> Result<Self, String> {
        Self::from_template(TEMPLATE)
    }

    /// The stream the template declares, as the SDK takes it.
    fn stream_specification(&self) -> Result<Option<StreamSpecification>, StoreError> {
        self.stream_view_type
            .as_deref()
            .map(|view| {
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::from(view))
                    .build()
                    .map_err(|e| StoreError::Other(e.to_string()))
            })
            .transpose()
    }

    /// Creates the table if it does not exist and waits until it is active.
    /// Returns false when it existed already.
    pub async fn create(&self, client: &Client, name: &str) -> Result<bool, StoreError> {
        let attr = |(n, t): &(String, String)| {
            AttributeDefinition::builder()
                .attribute_name(n)
                .attribute_type(ScalarAttributeType::from(t.as_str()))
                .build()
                .map_err(|e| StoreError::Other(e.to_string()))
        };
        let key = |(n, t): &(String, String)| {
            KeySchemaElement::builder()
                .attribute_name(n)
                .key_type(KeyType::from(t.as_str()))
                .build()
                .map_err(|e| StoreError::Other(e.to_string()))
        };
        let result = client
            .create_table()
            .table_name(name)
            .set_attribute_definitions(Some(self.attributes.iter().map(attr).collect::<Result<_, _>>()?))
            .set_key_schema(Some(self.key_schema.iter().map(key).collect::<Result<_, _>>()?))
            .billing_mode(BillingMode::from(self.billing_mode.as_str()))
            .set_stream_specification(self.stream_specification()?)
            .send()
            .await;
        let created = match result {
            Ok(_) => true,
            Err(e) if e.as_service_error().is_some_and(|se| se.is_resource_in_use_exception()) => false,
            Err(e) => return Err(StoreError::Unavailable(format!("create table: {}", describe(&e)))),
        };
        let table = wait_active(client, name).await?;
        // An existing table made before the outbox's events left through the stream.
        let streaming = table.stream_specification.is_some_and(|s| s.stream_enabled);
        if let (Some(spec), false) = (self.stream_specification()?, streaming) {
            client
                .update_table()
                .table_name(name)
                .stream_specification(spec)
                .send()
                .await
                .map_err(|e| StoreError::Unavailable(format!("enable the stream: {}", describe(&e))))?;
            wait_active(client, name).await?;
        }
        // Also on an existing table: an earlier run may have stopped before this step.
        if let Some(attribute) = &self.ttl_attribute {
            let enabled = client
                .describe_time_to_live()
                .table_name(name)
                .send()
                .await
                .map_err(|e| StoreError::Unavailable(format!("describe TTL: {}", describe(&e))))?
                .time_to_live_description
                .and_then(|d| d.time_to_live_status)
                .is_some_and(|s| {
                    matches!(
                        s,
                        aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled
                            | aws_sdk_dynamodb::types::TimeToLiveStatus::Enabling
                    )
                });
            if enabled {
                return Ok(created);
            }
            let spec = TimeToLiveSpecification::builder()
                .attribute_name(attribute)
                .enabled(true)
                .build()
                .map_err(|e| StoreError::Other(e.to_string()))?;
            client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| StoreError::Unavailable(format!("enable TTL: {}", describe(&e))))?;
        }
        Ok(created)
    }
}

fn describe<E: ProvideErrorMetadata, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> String {
    match e.code() {
        Some(code) => format!("{code}: {}", e.message().unwrap_or_default()),
        None => "no answer".to_string(),
    }
}

/// Waits (up to 30 s) until the table is active; its description then.
async fn wait_active(client: &Client, name: &str) -> Result<aws_sdk_dynamodb::types::TableDescription, StoreError> {
    for _ in 0..300 {
        let table = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(format!("describe table: {}", describe(&e))))?
            .table;
        if let Some(t) = table.filter(|t| t.table_status == Some(aws_sdk_dynamodb::types::TableStatus::Active)) {
            return Ok(t);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(StoreError::Unavailable(format!("table {name} did not become active within 30 s")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_declares_the_table_the_store_expects() {
        let def = TableDefinition::from_embedded_template().unwrap();
        assert_eq!(def.key_schema, vec![("pk".into(), "HASH".into()), ("sk".into(), "RANGE".into())]);
        assert_eq!(def.attributes, vec![("pk".into(), "S".into()), ("sk".into(), "S".into())]);
        assert_eq!(def.billing_mode, "PAY_PER_REQUEST");
        assert_eq!(def.ttl_attribute.as_deref(), Some("expires_at"));
        assert_eq!(def.stream_view_type.as_deref(), Some("NEW_IMAGE"));
    }

    /// `docs/table-design.md` describes the table `portal-admin init` creates.
    #[test]
    fn the_table_design_document_matches_the_template() {
        let doc = include_str!("../../../docs/table-design.md");
        let def = TableDefinition::from_embedded_template().unwrap();
        let section = doc.split("## The table").nth(1).and_then(|s| s.split("\n## ").next()).expect("a table section");
        let rows: Vec<Vec<&str>> = section
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| l.split('|').map(|c| c.trim().trim_matches('`')).filter(|c| !c.is_empty()).collect())
            .collect();
        let attributes: Vec<(String, String)> = rows.iter().map(|r| (r[0].to_string(), r[1].to_string())).collect();
        let key_schema: Vec<(String, String)> = rows.iter().map(|r| (r[0].to_string(), r[2].to_string())).collect();
        assert_eq!(attributes, def.attributes);
        assert_eq!(key_schema, def.key_schema);
        assert!(section.contains(&format!("Billing: `{}`", def.billing_mode)), "billing mode");
        let ttl = def.ttl_attribute.expect("a TTL attribute");
        assert!(section.contains(&format!("TTL attribute: `{ttl}`")), "TTL attribute");
        assert!(section.contains("No secondary index") && !doc.contains("GlobalSecondaryIndex"), "indexes");
    }

    #[test]
    fn a_template_without_the_table_is_an_error() {
        assert!(TableDefinition::from_template("Resources: {}").is_err());
        assert!(TableDefinition::from_template("::: not yaml").is_err());
    }
}
