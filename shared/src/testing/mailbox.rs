//! The local mailbox: the mails moto's SES received (`GET /moto-api/data.json`).

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::Value;

use super::require_env;

/// A mail as moto's SES kept it.
#[derive(Debug, Clone)]
pub struct SentMail {
    pub to: Vec<String>,
    pub subject: String,
    /// The HTML part if any, else the text part.
    pub body: String,
}

/// Every mail moto holds.
pub fn sent_mails() -> Vec<SentMail> {
    let endpoint = require_env("AWS_ENDPOINT_URL_SESV2");
    // moto, busy with the other tests' writes, now and then answers this dump with
    // something else than JSON: asked again a few times before the test fails.
    let mut data = String::new();
    let mut parsed = None;
    for _ in 0..5 {
        data = http_get(&endpoint, "/moto-api/data.json");
        if let Ok(v) = serde_json::from_str::<Value>(&data) {
            parsed = Some(v);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let v =
        parsed.unwrap_or_else(|| panic!("moto data.json is not JSON: {}", data.chars().take(300).collect::<String>()));
    let mut out = Vec::new();
    collect_messages(&v["ses"]["Message"], &mut out);
    out
}

fn collect_messages(v: &Value, out: &mut Vec<SentMail>) {
    match v {
        Value::Array(list) => {
            for m in list {
                let to = m["destinations"]["ToAddresses"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                out.push(SentMail {
                    to,
                    subject: m["subject"].as_str().unwrap_or_default().to_string(),
                    body: m["body"].as_str().unwrap_or_default().to_string(),
                });
            }
        }
        // Some moto versions key messages by account or region first.
        Value::Object(map) => map.values().for_each(|x| collect_messages(x, out)),
        _ => {}
    }
}

/// The first `<PORTAL_URL>/password-reset?token=...` link of a mail body.
pub fn reset_token_in(body: &str) -> Option<String> {
    token_in(body, "/password-reset?token=")
}

/// The first `<PORTAL_URL>/email-change?token=...` link of a mail body.
pub fn email_change_token_in(body: &str) -> Option<String> {
    token_in(body, "/email-change?token=")
}

fn token_in(body: &str, link: &str) -> Option<String> {
    let start = body.find(link)? + link.len();
    let token: String =
        body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    (!token.is_empty()).then_some(token)
}

/// A minimal HTTP/1.0 GET for the local emulators (tests only).
pub fn http_get(endpoint: &str, path: &str) -> String {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect to {host}: {e}"));
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    text.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default()
}
