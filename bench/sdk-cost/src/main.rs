//! Prints, as one JSON line, the CPU time one DynamoDB GetItem (of an absent key, on a
//! kept-alive connection) costs this process, per way of sending it:
//!
//! - `portal`: the functions' client (`shared::aws::dynamodb`, the settings of
//!   `shared::aws::sdk_config`);
//! - that client with one setting changed (stalled-stream protection off, the attempt
//!   timeout only, no retries) or all three;
//! - `hyper client`: the same request, unsigned but for a fixed header DynamoDB Local
//!   does not check, through the HTTP client the SDK's is built on (hyper's, on the same
//!   runtime): what the asynchronous HTTP stack costs without the SDK;
//! - `bare socket`: that request written by hand on a blocking socket: what the kernel
//!   and the network stack cost alone.
//!
//! The ways take turns, `SDK_COST_ROUNDS` rounds (7) of `SDK_COST_REQUESTS` (200)
//! requests each; the figures are the median and the lowest of the rounds, in
//! microseconds. CPU time is the thread's
//! (`/proc/thread-self/schedstat`): the runtime has one thread, as in the functions.
//! Environment: `TABLE_NAME`, `AWS_ENDPOINT_URL_DYNAMODB` and what `sdk_config` reads.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;

const KEY: &str = "BENCH#ABSENT";

fn thread_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat (Linux)");
    stat.split_whitespace().next().and_then(|v| v.parse().ok()).expect("schedstat's first field")
}

/// One way's rounds: CPU and wall time per request, in microseconds.
#[derive(Default)]
struct Rounds {
    cpu_us: Vec<f64>,
    wall_us: Vec<f64>,
}

impl Rounds {
    fn start() -> (u64, Instant) {
        (thread_cpu_ns(), Instant::now())
    }

    fn finish(&mut self, (cpu0, t0): (u64, Instant), requests: usize) {
        self.cpu_us.push((thread_cpu_ns() - cpu0) as f64 / requests as f64 / 1e3);
        self.wall_us.push(t0.elapsed().as_secs_f64() * 1e6 / requests as f64);
    }

    fn json(mut self, way: &str) -> String {
        self.cpu_us.sort_by(f64::total_cmp);
        self.wall_us.sort_by(f64::total_cmp);
        let (cpu, wall) = (&self.cpu_us, &self.wall_us);
        format!(
            "{{\"way\": \"{way}\", \"cpu_us_p50\": {:.1}, \"cpu_us_min\": {:.1}, \"wall_us_p50\": {:.1}}}",
            cpu[cpu.len() / 2],
            cpu[0],
            wall[wall.len() / 2]
        )
    }
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let table = std::env::var("TABLE_NAME").expect("TABLE_NAME");
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("AWS_ENDPOINT_URL_DYNAMODB");
    let (n, rounds) = (env_or("SDK_COST_REQUESTS", 200), env_or("SDK_COST_ROUNDS", 7));
    let sdk = shared::aws::sdk_config().await;
    let with = |change: &dyn Fn(aws_sdk_dynamodb::config::Builder) -> aws_sdk_dynamodb::config::Builder| {
        Client::from_conf(change(aws_sdk_dynamodb::config::Builder::from(&sdk)).build())
    };
    // The portal's timeouts (`shared::aws`) without the operation timeout.
    let attempt_only = || {
        let mut timeouts = sdk.timeout_config().expect("the portal sets timeouts").to_builder();
        timeouts.set_operation_timeout(None);
        timeouts.build()
    };
    let no_stall = StalledStreamProtectionConfig::disabled;
    let clients = [
        ("portal", shared::aws::dynamodb(&sdk)),
        ("no stalled-stream protection", with(&|b| b.stalled_stream_protection(no_stall()))),
        ("attempt timeout only", with(&|b| b.timeout_config(attempt_only()))),
        ("no retries", with(&|b| b.retry_config(RetryConfig::disabled()))),
        (
            "all three",
            with(&|b| {
                b.stalled_stream_protection(no_stall())
                    .timeout_config(attempt_only())
                    .retry_config(RetryConfig::disabled())
            }),
        ),
    ];
    let mut bare = BareSocket::connect(&endpoint, &table);
    let hyper = HyperClient::new(&endpoint, &bare.body);

    // Warm-up: connections open, lazy state built.
    for (_, client) in &clients {
        for _ in 0..20 {
            get_item(client, &table).await;
        }
    }
    for _ in 0..20 {
        hyper.get_item().await;
        bare.get_item();
    }

    let mut rounds_of: Vec<Rounds> = (0..clients.len() + 2).map(|_| Rounds::default()).collect();
    let (h, b) = (clients.len(), clients.len() + 1);
    for _ in 0..rounds {
        for (i, (_, client)) in clients.iter().enumerate() {
            let start = Rounds::start();
            for _ in 0..n {
                get_item(client, &table).await;
            }
            rounds_of[i].finish(start, n);
        }
        let start = Rounds::start();
        for _ in 0..n {
            hyper.get_item().await;
        }
        rounds_of[h].finish(start, n);
        let start = Rounds::start();
        for _ in 0..n {
            bare.get_item();
        }
        rounds_of[b].finish(start, n);
    }

    let labels = clients.iter().map(|(label, _)| *label).chain(["hyper client", "bare socket"]);
    let ways: Vec<String> = labels.zip(rounds_of).map(|(label, r)| r.json(label)).collect();
    println!("{{\"requests\": {n}, \"rounds\": {rounds}, \"ways\": [{}]}}", ways.join(", "));
}

async fn get_item(client: &Client, table: &str) {
    client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(KEY.into()))
        .key("sk", AttributeValue::S(KEY.into()))
        .send()
        .await
        .expect("GetItem");
}

/// The headers DynamoDB Local needs besides the body: it reads the signature's
/// credential and region, and does not check the signature.
const HEADERS: [(&str, &str); 4] = [
    ("Content-Type", "application/x-amz-json-1.0"),
    ("X-Amz-Target", "DynamoDB_20120810.GetItem"),
    ("X-Amz-Date", "20260101T000000Z"),
    (
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature=0",
    ),
];

/// The GetItem through hyper's pooled client (keep-alive), as the SDK's transport.
struct HyperClient {
    client: hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    uri: hyper::Uri,
    body: Bytes,
}

impl HyperClient {
    fn new(endpoint: &str, body: &str) -> Self {
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(hyper_util::client::legacy::connect::HttpConnector::new());
        let uri = endpoint.parse().expect("DynamoDB Local's URL");
        HyperClient { client, uri, body: Bytes::from(body.to_owned()) }
    }

    async fn get_item(&self) {
        let mut request = hyper::Request::post(&self.uri);
        for (name, value) in HEADERS {
            request = request.header(name, value);
        }
        let request = request.body(Full::new(self.body.clone())).expect("a valid request");
        let response = self.client.request(request).await.expect("hyper request");
        assert_eq!(response.status(), 200, "DynamoDB Local's answer");
        response.into_body().collect().await.expect("the answer's body");
    }
}

/// The same GetItem as raw HTTP/1.1 on one kept-alive blocking socket.
struct BareSocket {
    stream: TcpStream,
    request: Vec<u8>,
    body: String,
    buf: Vec<u8>,
}

impl BareSocket {
    fn connect(endpoint: &str, table: &str) -> Self {
        let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
        let stream = TcpStream::connect(host).expect("DynamoDB Local's address (http://host:port)");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let body = format!(r#"{{"TableName":"{table}","Key":{{"pk":{{"S":"{KEY}"}},"sk":{{"S":"{KEY}"}}}}}}"#);
        let headers: String = HEADERS.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
        let request =
            format!("POST / HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Length: {}\r\n\r\n{body}", body.len());
        BareSocket { stream, request: request.into_bytes(), body, buf: vec![0; 16 * 1024] }
    }

    fn get_item(&mut self) {
        self.stream.write_all(&self.request).expect("write");
        let mut got = 0;
        loop {
            let k = self.stream.read(&mut self.buf[got..]).expect("read");
            assert!(k > 0, "DynamoDB Local closed the connection");
            got += k;
            let response = &self.buf[..got];
            if let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
                assert!(head.starts_with("http/1.1 200"), "DynamoDB Local answered: {head}");
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .expect("a Content-Length");
                if got >= end + 4 + length {
                    return;
                }
            }
        }
    }
}
