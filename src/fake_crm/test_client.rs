//! A bare HTTP/1 client for the fake's own tests: raw bytes on a socket, so
//! a test sees exactly what was sent back, down to nothing at all.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::api::{INSERT_PATH, QUERY_PATH};
use super::{FakeCrm, FakeCrmOptions};

pub(super) const TOKEN: &str = "fake-token";

pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: String,
}

impl Reply {
    pub(super) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(super) async fn start(opts: FakeCrmOptions) -> FakeCrm {
    FakeCrm::start("127.0.0.1:0".parse().unwrap(), opts)
        .await
        .unwrap()
}

pub(super) fn request_bytes(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Vec<u8> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: fake\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(token) = token {
        req.push_str(&format!("Wolkvox-Token: {token}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    req.into_bytes()
}

pub(super) async fn connect_and_send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(&request_bytes(method, path, token, body))
        .await
        .unwrap();
    stream
}

/// Everything the server sent before closing; a reset counts as the end.
pub(super) async fn read_all(stream: &mut TcpStream, out: &mut Vec<u8>) {
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => return,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(err) if err.kind() == io::ErrorKind::ConnectionReset => return,
            Err(err) => panic!("read failed: {err}"),
        }
    }
}

pub(super) fn parse(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete head in {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {text:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    assert!(
        !headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked")),
        "test client does not decode chunked bodies"
    );
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

pub(super) async fn call(
    crm: &FakeCrm,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut stream = connect_and_send(crm.local_addr(), method, path, token, body).await;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), read_all(&mut stream, &mut raw))
        .await
        .expect("answer within 5 s");
    parse(&raw)
}

pub(super) fn obligation(record: &str, id: &str) -> Value {
    json!({
        "operation": "op1",
        "wolkvox_id": record,
        "fields": {
            "id": id,
            "name": "ANA PEREZ",
            "total_balance": "1500000",
            "portfolio_type": "CONSUMO",
            "last_pay": "50000",
            "last_pay_date": "2024-01-15",
            "expiring_date": "2024-02-15",
            "days_delay": "30",
            "form": [{"name": "ciudad", "value": "Bogotá"}],
        }
    })
}

pub(super) fn query_body(record: &str, id: &str) -> Value {
    json!({"operation": "op1", "obligation": id, "wolkvox_id": record})
}

pub(super) async fn insert(crm: &FakeCrm, body: &Value) -> Reply {
    call(crm, "POST", INSERT_PATH, Some(TOKEN), Some(body)).await
}

pub(super) async fn query(crm: &FakeCrm, record: &str, id: &str) -> Reply {
    let body = query_body(record, id);
    call(crm, "POST", QUERY_PATH, Some(TOKEN), Some(&body)).await
}

/// One answer from a kept-alive connection, delimited by Content-Length.
pub(super) async fn read_one(stream: &mut TcpStream) -> Reply {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = parse(&raw[..end + 4]);
            let len: usize = head
                .header("content-length")
                .and_then(|v| v.parse().ok())
                .expect("content-length");
            if raw.len() >= end + 4 + len {
                return parse(&raw[..end + 4 + len]);
            }
        }
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed mid-answer");
        raw.extend_from_slice(&buf[..n]);
    }
}
