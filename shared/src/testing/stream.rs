//! The test table's stream in DynamoDB Local, read as Lambda's event source mapping reads
//! it (DescribeStream, GetShardIterator, GetRecords) and handed over the way Lambda hands
//! it to `send-pending-mail`: `{"Records": [...]}`, each record as GetRecords returns it.
//! The Streams API is JSON over HTTP on DynamoDB Local's own port; the functions never
//! read a stream themselves (Lambda does), so the tests call it here, over plain HTTP,
//! rather than adding an SDK crate for it.

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{require_env, TestEnv};
use crate::events::EventBus;
use crate::outbox::{deliver_streamed, RunReport};
use crate::store::{inserted_events, DynamoStore};

/// One call of the DynamoDB Streams API on DynamoDB Local (which does not check
/// signatures, but reads the account from the credential's access key).
async fn streams_call(operation: &str, body: &Value) -> Value {
    let endpoint = require_env("AWS_ENDPOINT_URL_DYNAMODB");
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/').to_string();
    let key = std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_else(|_| "local".into());
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    let body = body.to_string();
    let request = format!(
        "POST / HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/x-amz-json-1.0\r\n\
         x-amz-target: DynamoDBStreams_20120810.{operation}\r\nx-amz-date: 20260101T000000Z\r\n\
         authorization: AWS4-HMAC-SHA256 Credential={key}/20260101/{region}/dynamodb/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature=0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut socket = tokio::net::TcpStream::connect(&authority).await.expect("reach DynamoDB Local");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).expect("a UTF-8 answer");
    let (head, payload) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{operation}: {head}\n{payload}");
    serde_json::from_str(payload).unwrap_or_else(|e| panic!("{operation}: {e}: {payload}"))
}

impl TestEnv {
    /// Every record of this test's table stream so far, from the start of each shard, as
    /// the one batch Lambda would hand to `send-pending-mail`.
    pub async fn stream_batch(&self) -> Value {
        let table = self.store.table().to_string();
        let described = crate::aws::dynamodb(&self.sdk)
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .expect("describe the table");
        let arn = described.table.and_then(|t| t.latest_stream_arn).expect("the test table has a stream");
        let stream = streams_call("DescribeStream", &json!({"StreamArn": arn})).await;
        let mut records = Vec::new();
        for shard in stream["StreamDescription"]["Shards"].as_array().cloned().unwrap_or_default() {
            let at = json!({"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"});
            let mut iterator = streams_call("GetShardIterator", &at).await["ShardIterator"].clone();
            // An open shard always answers with a next iterator: read until a page is empty.
            while iterator.is_string() {
                let page = streams_call("GetRecords", &json!({"ShardIterator": iterator})).await;
                let got = page["Records"].as_array().cloned().unwrap_or_default();
                if got.is_empty() {
                    break;
                }
                records.extend(got);
                iterator = page["NextShardIterator"].clone();
            }
        }
        json!({ "Records": records })
    }

    /// What the stream's trigger does: `send-pending-mail`'s delivery of the events the
    /// table's stream holds (read from the start: an event delivered before is gone from
    /// the outbox, and its lease skips it).
    pub async fn deliver_stream(&self) -> RunReport {
        self.deliver_stream_to(&self.bus.bus).await
    }

    /// [`TestEnv::deliver_stream`] to another bus (e.g. [`super::TestBus::down`]).
    pub async fn deliver_stream_to(&self, bus: &EventBus) -> RunReport {
        let batch = self.stream_batch().await;
        let uncounted = DynamoStore::new(crate::aws::dynamodb(&self.sdk), self.store.table());
        let inserted = inserted_events(&batch).expect("a stream batch");
        deliver_streamed(&uncounted, bus, inserted, chrono::Utc::now()).await
    }
}
