//! A TCP proxy in front of DynamoDB Local or moto that forwards, refuses, hangs, slows
//! down or loses answers (the fault tests). HTTP/1.1, one request per connection (it asks both sides to close
//! after each exchange), so each request meets the fault in force when it arrives.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Requests and answers pass.
    Forward,
    /// The connection is closed once the request is read: it never reaches the service.
    Reset,
    /// The request is read and then nothing happens: no answer, connection left open.
    Hang,
    /// The request reaches the service at once; its answer is held this long.
    Slow(Duration),
    /// The request reaches the service (which does the work); the answer is dropped and
    /// the connection closed.
    LoseAnswer,
    /// Requests of this DynamoDB operation (e.g. `DeleteItem`) meet [`Fault::Reset`]; the
    /// others pass.
    ResetOnly(&'static str),
}

struct State {
    fault: Fault,
    /// Requests before this index (counted from the proxy's start) still pass.
    from: usize,
    seen: Vec<String>,
}

pub struct Proxy {
    url: String,
    state: Arc<Mutex<State>>,
}

impl Proxy {
    /// A proxy to `upstream` (`http://host:port`), forwarding until told otherwise.
    pub async fn start(upstream: &str) -> Proxy {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State { fault: Fault::Forward, from: 0, seen: Vec::new() }));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(serve(conn, upstream.clone(), shared.clone()));
            }
        });
        Proxy { url, state }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every request from now on meets `fault`.
    pub fn set(&self, fault: Fault) {
        self.set_from(0, fault);
    }

    /// The `n`th request from now on (0: the next one) and all later ones meet `fault`.
    pub fn set_from(&self, n: usize, fault: Fault) {
        let mut s = self.state.lock().unwrap();
        s.from = s.seen.len() + n;
        s.fault = fault;
    }

    /// The operations seen so far: DynamoDB's `X-Amz-Target` operation, else method and path.
    pub fn seen(&self) -> Vec<String> {
        self.state.lock().unwrap().seen.clone()
    }
}

async fn serve(mut client: TcpStream, upstream: String, state: Arc<Mutex<State>>) {
    let Some(request) = read_message(&mut client, true).await else { return };
    let fault = {
        let mut s = state.lock().unwrap();
        let op = operation(&request);
        let fault = match s.fault {
            _ if s.seen.len() < s.from => Fault::Forward,
            Fault::ResetOnly(target) if target == op => Fault::Reset,
            Fault::ResetOnly(_) => Fault::Forward,
            fault => fault,
        };
        s.seen.push(op);
        fault
    };
    match fault {
        Fault::Reset | Fault::ResetOnly(_) => {}
        Fault::Hang => {
            let mut sink = [0u8; 1024];
            while let Ok(1..) = client.read(&mut sink).await {}
        }
        Fault::Forward | Fault::Slow(_) | Fault::LoseAnswer => {
            let Ok(mut up) = TcpStream::connect(&upstream).await else { return };
            if up.write_all(&closing(&request)).await.is_err() {
                return;
            }
            // The service closes after its answer: we asked it to.
            let Some(answer) = read_message(&mut up, false).await else { return };
            match fault {
                Fault::LoseAnswer => return,
                Fault::Slow(d) => tokio::time::sleep(d).await,
                _ => {}
            }
            let _ = client.write_all(&closing(&answer)).await;
            let _ = client.shutdown().await;
        }
    }
}

/// One HTTP message: a request (its body framed by Content-Length) or an answer (read
/// to the end of the connection).
async fn read_message(s: &mut TcpStream, request: bool) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if request {
            if let Some(end) = head_end(&buf) {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len = header(&head, "content-length").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
                if buf.len() >= end + len {
                    return Some(buf);
                }
            }
        }
        match s.read(&mut chunk).await {
            Ok(0) => return (!request && !buf.is_empty()).then_some(buf),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => return None,
        }
    }
}

fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.trim() == name).map(|(_, v)| v.trim()))
}

fn operation(request: &[u8]) -> String {
    let head = String::from_utf8_lossy(&request[..head_end(request).unwrap_or(request.len())]).to_string();
    let lower = head.to_ascii_lowercase();
    if let Some(target) = header(&lower, "x-amz-target") {
        let start = lower.find(target).unwrap();
        let original = &head[start..start + target.len()];
        return original.rsplit('.').next().unwrap_or(original).to_string();
    }
    head.lines().next().unwrap_or_default().rsplit_once(' ').map_or(String::new(), |(l, _)| l.to_string())
}

/// The message with `Connection: close` in place of any connection header.
fn closing(message: &[u8]) -> Vec<u8> {
    let end = head_end(message).unwrap_or(message.len());
    let head = String::from_utf8_lossy(&message[..end]);
    let mut out = String::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&message[end..]);
    bytes
}
