//! The table's stream, as Lambda hands it to `send-pending-mail`: the outbox's new event
//! items, read from each record's `NewImage` (the stream's view type is `NEW_IMAGE`, and
//! the event source mapping passes only the inserts of `pending_event` items). The image
//! is in DynamoDB's JSON (`{"S": "..."}`, `{"N": "1"}`), the same typed values the SDK
//! reads, so an item is decoded by the outbox's own reader and the stream adds no second
//! format to keep in step.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use serde::Deserialize;

use super::outbox::{queued, Family};
use super::Item;
use crate::events::PendingEvent;
use crate::store::{StoreError, StoreResult};

/// A DynamoDB Streams event for Lambda: only the fields read here.
#[derive(Debug, Deserialize)]
struct StreamEvent {
    #[serde(rename = "Records")]
    records: Vec<Record>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    event_name: String,
    dynamodb: Change,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Change {
    new_image: Option<HashMap<String, Wire>>,
}

/// One attribute value in DynamoDB's JSON.
#[derive(Debug, Deserialize)]
#[allow(clippy::upper_case_acronyms)] // the wire's own tags
enum Wire {
    S(String),
    N(String),
    B(String),
    BOOL(bool),
    NULL(bool),
    M(HashMap<String, Wire>),
    L(Vec<Wire>),
    SS(Vec<String>),
    NS(Vec<String>),
    BS(Vec<String>),
}

fn blob(b64: &str) -> Result<Blob, String> {
    base64::engine::general_purpose::STANDARD.decode(b64).map(Blob::new).map_err(|e| format!("binary value: {e}"))
}

impl TryFrom<Wire> for AttributeValue {
    type Error = String;
    fn try_from(w: Wire) -> Result<Self, String> {
        Ok(match w {
            Wire::S(v) => AttributeValue::S(v),
            Wire::N(v) => AttributeValue::N(v),
            Wire::B(v) => AttributeValue::B(blob(&v)?),
            Wire::BOOL(v) => AttributeValue::Bool(v),
            Wire::NULL(v) => AttributeValue::Null(v),
            Wire::M(m) => AttributeValue::M(item(m)?),
            Wire::L(l) => AttributeValue::L(l.into_iter().map(AttributeValue::try_from).collect::<Result<_, _>>()?),
            Wire::SS(v) => AttributeValue::Ss(v),
            Wire::NS(v) => AttributeValue::Ns(v),
            Wire::BS(v) => AttributeValue::Bs(v.iter().map(|b| blob(b)).collect::<Result<_, _>>()?),
        })
    }
}

fn item(image: HashMap<String, Wire>) -> Result<Item, String> {
    image.into_iter().map(|(k, v)| Ok((k, AttributeValue::try_from(v)?))).collect()
}

/// The pending events a stream batch inserted, in the batch's order. Other records
/// (another item type, a change or a removal: the mapping's filter should have kept them
/// out) are skipped; an event item that cannot be read is an error in its place. A batch
/// that is not a stream event at all is one error.
pub fn inserted_events(batch: &serde_json::Value) -> Result<Vec<StoreResult<PendingEvent>>, StoreError> {
    let batch = StreamEvent::deserialize(batch).map_err(|e| StoreError::Other(format!("not a stream batch: {e}")))?;
    let events = batch
        .records
        .into_iter()
        .filter(|r| r.event_name == "INSERT")
        .filter_map(|r| r.dynamodb.new_image)
        .filter(|image| matches!(image.get("type"), Some(Wire::S(t)) if t == PendingEvent::TYPE))
        .map(|image| {
            let key = match image.get("sk") {
                Some(Wire::S(sk)) => sk.clone(),
                _ => "a stream record".into(),
            };
            let item = item(image).map_err(|reason| StoreError::Corrupt { key, reason })?;
            Ok(queued::<PendingEvent>(&item)?.message)
        })
        .collect();
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(event_name: &str, image: serde_json::Value) -> serde_json::Value {
        json!({"eventID": "1", "eventName": event_name, "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
               "dynamodb": {"Keys": {"pk": image["pk"], "sk": image["sk"]}, "NewImage": image,
                            "SequenceNumber": "100", "SizeBytes": 300, "StreamViewType": "NEW_IMAGE"}})
    }

    fn event_image(id: &str) -> serde_json::Value {
        json!({"pk": {"S": "OUTBOX"}, "sk": {"S": format!("EVENT#2026-12-02T10:00:00.000001Z#{id}")},
               "type": {"S": "pending_event"}, "id": {"S": id}, "created_at": {"S": "2026-12-02T10:00:00.000001Z"},
               "detail_type": {"S": "SerialActivated"}, "detail": {"S": "{\"serial\":\"SKSNWR4TQD\"}"}})
    }

    #[test]
    fn the_inserted_events_are_read_and_everything_else_is_skipped() {
        let mail = json!({"pk": {"S": "OUTBOX"}, "sk": {"S": "MAIL#x"}, "type": {"S": "pending_mail"}});
        let batch = json!({"Records": [
            record("INSERT", event_image("activated-A")),
            record("INSERT", mail),
            record("MODIFY", event_image("activated-B")),
            record("INSERT", event_image("activated-C")),
        ]});
        let events = inserted_events(&batch).unwrap();
        let ids: Vec<_> = events.into_iter().map(|e| e.unwrap().id).collect();
        assert_eq!(ids, ["activated-A", "activated-C"]);
    }

    #[test]
    fn an_unreadable_event_item_is_an_error_in_its_place_and_a_foreign_batch_is_one_error() {
        let mut broken = event_image("activated-A");
        broken.as_object_mut().unwrap().remove("detail");
        let batch = json!({"Records": [record("INSERT", broken), record("INSERT", event_image("activated-B"))]});
        let events = inserted_events(&batch).unwrap();
        assert!(
            matches!(&events[0], Err(StoreError::Corrupt { reason, .. }) if reason.contains("detail")),
            "{events:?}"
        );
        assert_eq!(events[1].as_ref().unwrap().detail_type, "SerialActivated");
        assert!(matches!(inserted_events(&json!({"time": "2026-12-02T10:00:00Z"})), Err(StoreError::Other(_))));
    }

    #[test]
    fn every_value_type_of_dynamodb_json_converts() {
        let wire: Wire =
            serde_json::from_value(json!({"M": {"b": {"B": "AQI="}, "l": {"L": [{"N": "1"}, {"NULL": true}]},
            "ss": {"SS": ["a"]}, "ns": {"NS": ["2"]}, "bs": {"BS": ["AQ=="]}, "t": {"BOOL": true}}}))
            .unwrap();
        let AttributeValue::M(m) = AttributeValue::try_from(wire).unwrap() else { panic!("a map") };
        assert_eq!(m["b"], AttributeValue::B(Blob::new(vec![1, 2])));
        assert_eq!(m["l"], AttributeValue::L(vec![AttributeValue::N("1".into()), AttributeValue::Null(true)]));
        assert_eq!(m["bs"], AttributeValue::Bs(vec![Blob::new(vec![1])]));
        assert_eq!(m["t"], AttributeValue::Bool(true));
        let bad: Wire = serde_json::from_value(json!({"B": "not base64!"})).unwrap();
        assert!(AttributeValue::try_from(bad).is_err());
    }
}
