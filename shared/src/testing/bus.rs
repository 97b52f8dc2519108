//! The test's event bus in moto: a bus of its own, a rule sending everything the portal
//! publishes to an SQS queue (moto delivers rule targets), and a dead-letter queue for
//! `record-payment`, so a test reads back exactly what was published.

use serde_json::Value;

use crate::events::{EventBus, SOURCE};

/// `asyncapi.yaml`, the events' contract, as JSON.
pub fn asyncapi() -> &'static Value {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| serde_yaml::from_str(include_str!("../../../asyncapi.yaml")).expect("asyncapi.yaml is YAML"))
}

/// Checks an EventBridge event's `detail` against the schema of its `detail-type` in
/// `asyncapi.yaml`, and that the portal's events carry the portal's source.
pub fn check_event_contract(event: &Value) -> Result<(), String> {
    let detail_type = event["detail-type"].as_str().ok_or("the event has no detail-type")?;
    let schema = asyncapi()
        .pointer(&format!("/components/messages/{detail_type}/payload"))
        .ok_or_else(|| format!("{detail_type} is not documented in asyncapi.yaml"))?;
    if detail_type != "PaymentRecorded" && event["source"] != SOURCE {
        return Err(format!("{detail_type} from source {}", event["source"]));
    }
    super::contract::validate(asyncapi(), schema, &event["detail"], detail_type)
}

pub fn assert_event_contract(event: &Value) {
    if let Err(e) = check_event_contract(event) {
        panic!("event does not follow asyncapi.yaml: {e}\n{event}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_event_contract_accepts_a_real_detail_and_names_what_a_wrong_one_lacks() {
        let good = json!({"source": "serial-portal", "detail-type": "SerialActivated", "detail": {
            "event_id": "activated-SKSNWR4TQD", "account_id": "0123456789abcdef0123456789abcdef",
            "serial": "SKSNWR4TQD", "system": "SAE", "version": "8.0", "activated_on": "2026-12-01"}});
        check_event_contract(&good).unwrap();
        let mut missing = good.clone();
        missing["detail"].as_object_mut().unwrap().remove("activated_on");
        assert!(check_event_contract(&missing).unwrap_err().contains("activated_on"));
        let mut unknown = good.clone();
        unknown["detail-type"] = json!("SerialDeleted");
        assert!(check_event_contract(&unknown).unwrap_err().contains("not documented"));
    }
}

/// One test's bus and queues.
#[derive(Clone)]
pub struct TestBus {
    pub name: String,
    pub bus: EventBus,
    sdk: aws_config::SdkConfig,
    pub sqs: aws_sdk_sqs::Client,
    /// Receives every event `source: serial-portal` on the bus.
    pub published_queue: String,
    /// `record-payment`'s dead letters.
    pub dead_letter_queue: String,
}

/// A message read from a queue: its body and its attributes (name, string value).
#[derive(Debug, Clone)]
pub struct QueuedMessage {
    pub body: Value,
    pub attributes: Vec<(String, String)>,
}

impl QueuedMessage {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

impl TestBus {
    pub async fn create(sdk: &aws_config::SdkConfig, tag: &str) -> TestBus {
        let events = crate::aws::eventbridge(sdk);
        let sqs = crate::aws::sqs(sdk);
        let name = format!("portal-test-{tag}");
        events.create_event_bus().name(&name).send().await.expect("create the test's bus in moto");
        let queue = |suffix: &str| {
            let sqs = sqs.clone();
            let q = format!("{name}-{suffix}");
            async move { sqs.create_queue().queue_name(q).send().await.expect("create a queue").queue_url.unwrap() }
        };
        let published_queue = queue("published").await;
        let dead_letter_queue = queue("dead-letters").await;
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&published_queue)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn).cloned())
            .expect("the queue's ARN");
        events
            .put_rule()
            .name("published")
            .event_bus_name(&name)
            .event_pattern(serde_json::json!({"source": [SOURCE]}).to_string())
            .send()
            .await
            .expect("the rule");
        events
            .put_targets()
            .rule("published")
            .event_bus_name(&name)
            .targets(aws_sdk_eventbridge::types::Target::builder().id("queue").arn(arn).build().unwrap())
            .send()
            .await
            .expect("the rule's target");
        let bus = EventBus::new(events, &name);
        TestBus { name, bus, sdk: sdk.clone(), sqs, published_queue, dead_letter_queue }
    }

    /// This bus as it is when EventBridge is down: nothing listens where its client calls.
    pub fn down(&self) -> EventBus {
        let conf = aws_sdk_eventbridge::config::Builder::from(&self.sdk).endpoint_url("http://127.0.0.1:9").build();
        EventBus::new(aws_sdk_eventbridge::Client::from_conf(conf), &self.name)
    }

    /// Every event published so far (EventBridge envelopes), left on the queue; each one's
    /// detail checked against its schema in `asyncapi.yaml`.
    pub async fn published(&self) -> Vec<Value> {
        let events: Vec<Value> = self.peek(&self.published_queue).await.into_iter().map(|m| m.body).collect();
        for event in &events {
            assert_event_contract(event);
        }
        events
    }

    /// Published events of one detail type.
    pub async fn published_of(&self, detail_type: &str) -> Vec<Value> {
        self.published().await.into_iter().filter(|e| e["detail-type"] == detail_type).collect()
    }

    pub async fn dead_letters(&self) -> Vec<QueuedMessage> {
        self.peek(&self.dead_letter_queue).await
    }

    /// Reads a queue without taking anything off it (visibility timeout 0).
    async fn peek(&self, queue: &str) -> Vec<QueuedMessage> {
        let mut seen = std::collections::HashMap::new();
        // Each receive returns at most 10; a few in a row find them all, deduplicated.
        for _ in 0..5 {
            let out = self
                .sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages(10)
                .visibility_timeout(0)
                .message_attribute_names("All")
                .send()
                .await
                .expect("receive from the test's queue");
            let batch = out.messages.unwrap_or_default();
            if batch.is_empty() {
                break;
            }
            for m in batch {
                let id = m.message_id.clone().unwrap_or_default();
                let body = serde_json::from_str(m.body().unwrap_or("null")).unwrap_or(Value::Null);
                let attributes = m
                    .message_attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.string_value.unwrap_or_default()))
                    .collect();
                seen.insert(id, QueuedMessage { body, attributes });
            }
        }
        seen.into_values().collect()
    }
}
