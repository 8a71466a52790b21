//! The API as the real service answers it: routing, the checks every
//! request passes in the real API's order (token, simultaneous requests,
//! daily quota), the JSON envelope with its `code`, and the insert, update,
//! query and token-information endpoints with the real API's strict checks
//! on bodies.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tracing::debug;

use super::faults::Fault;
use super::server::DropConnection;
use super::stats::{bump, FakeCrmStats};
use super::{lock, CodeStyle, Shared};
use crate::mapping::OBLIGATION_FIELDS;

pub(super) const INSERT_PATH: &str = "/server/API/v2/collections/insertObligation.php";
pub(super) const QUERY_PATH: &str = "/server/API/v2/collections/queryObligation.php";
pub(super) const TOKEN_INFO_PATH: &str = "/server/API/v2/token/tokenInformation.php";
/// Outside the API prefix so it can never shadow a real endpoint.
pub(super) const STATS_PATH: &str = "/__fake/stats";
const TOKEN_HEADER: &str = "wolkvox-token";

/// Far above any real obligation body; only guards against runaway clients.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// What token information reports as the limit when none is configured; the
/// real API always reports some number, and clients divide by it.
const UNLIMITED_REPORTED: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Insert,
    Update,
    Query,
    TokenInfo,
}

/// Releases an in-flight slot however the request ends, including when its
/// connection is dropped mid-handling.
struct InFlightSlot<'a>(&'a AtomicUsize);

impl Drop for InFlightSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The statistics page, and every other path to the API's handler, which
/// refuses the ones the real API does not have as the real API would.
pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(STATS_PATH, get(stats_handler))
        .fallback(api_handler)
        .with_state(shared)
}

async fn stats_handler(State(shared): State<Arc<Shared>>) -> Json<FakeCrmStats> {
    Json(shared.counters.snapshot())
}

async fn api_handler(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    bump(&shared.counters.requests);
    debug!(%method, %path, "fake CRM request");
    let resp = handle(&shared, req).await;
    debug!(
        %method,
        %path,
        status = resp.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "fake CRM answer"
    );
    resp
}

/// Waits `d` to within a fraction of a millisecond. tokio's timer fires on
/// whole milliseconds, rounding up, which would make a "20 ms" API answer in
/// 21 and cap a two-slot client below 95 requests a second; the last stretch
/// is slept by the OS, which is finer.
async fn precise_sleep(d: Duration) {
    let deadline = std::time::Instant::now() + d;
    let coarse = Duration::from_millis(2);
    if d > coarse {
        tokio::time::sleep(d - coarse).await;
    }
    let rest = deadline.saturating_duration_since(std::time::Instant::now());
    if !rest.is_zero() {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await;
    }
}

fn route(method: &Method, path: &str) -> Result<Endpoint, (StatusCode, &'static str)> {
    let endpoint = match (path, method) {
        (INSERT_PATH, &Method::POST) => Endpoint::Insert,
        (INSERT_PATH, &Method::PUT) => Endpoint::Update,
        (QUERY_PATH, &Method::POST | &Method::GET) => Endpoint::Query,
        (TOKEN_INFO_PATH, &Method::GET) => Endpoint::TokenInfo,
        (INSERT_PATH | QUERY_PATH | TOKEN_INFO_PATH, _) => {
            return Err((StatusCode::METHOD_NOT_ALLOWED, "METHOD NOT ALLOWED"))
        }
        _ => return Err((StatusCode::NOT_FOUND, "NOT FOUND")),
    };
    Ok(endpoint)
}

async fn handle(shared: &Shared, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let endpoint = match route(&parts.method, parts.uri.path()) {
        Ok(endpoint) => endpoint,
        Err((status, error)) => return shared.refusal(status, error),
    };
    // Read the body even for requests about to be refused: hyper drains an
    // unread body only as far as one read gets and otherwise closes the
    // keep-alive connection, and a pooled client reusing it at that moment
    // would see a network error the real API would not have caused.
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(err) => return shared.bad_request(&format!("body (could not be read: {err})")),
    };
    if let Some(resp) = shared.token_refusal(&parts.headers) {
        return resp;
    }
    let Some(_slot) = shared.enter() else {
        bump(&shared.counters.rejected_busy);
        return shared.busy();
    };
    if !shared.take_quota() {
        bump(&shared.counters.rejected_quota);
        return shared.refusal(StatusCode::FORBIDDEN, "TOKEN LIMIT EXCEEDED");
    }
    if !shared.opts.latency.is_zero() {
        precise_sleep(shared.opts.latency).await;
    }
    if endpoint == Endpoint::TokenInfo {
        let operation = parts
            .uri
            .query()
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("operation=").filter(|v| !v.is_empty()));
        if operation.is_none() {
            return shared.bad_request("operation (query parameter missing)");
        }
        return shared.token_information();
    }
    let fault = shared.dice.draw_fault();
    if let Some(fault) = fault {
        bump(&shared.counters.faults);
        debug!(?fault, "fake CRM injecting fault");
        if let Some(resp) = shared.fault_response(fault) {
            return resp;
        }
    }
    let resp = match endpoint {
        Endpoint::Insert => shared.insert(&body),
        Endpoint::Update => shared.update(&body),
        Endpoint::Query | Endpoint::TokenInfo => shared.query(&body),
    };
    match fault {
        Some(Fault::DropAfterCommit) => {
            bump(&shared.counters.drops);
            if let Some(DropConnection(signal)) = parts.extensions.get::<DropConnection>() {
                signal.notify_one();
                // The connection task drops this future together with the
                // socket; answering would defeat the fault.
                std::future::pending::<()>().await;
            }
            resp
        }
        Some(Fault::Slow) => {
            tokio::time::sleep(shared.opts.slow_delay).await;
            resp
        }
        _ => resp,
    }
}

impl Shared {
    fn code_value(&self, code: u16) -> Value {
        let as_string = match self.opts.code_style {
            CodeStyle::Number => false,
            CodeStyle::String => true,
            CodeStyle::Mixed => self.dice.coin(),
        };
        if as_string {
            Value::String(code.to_string())
        } else {
            Value::from(code)
        }
    }

    fn envelope(&self, status: StatusCode, error: &str, msg: &str, data: Value) -> Response {
        self.envelope_with_code(status, status.as_u16(), error, msg, data)
    }

    /// For the answers where the envelope's code and the HTTP status differ.
    fn envelope_with_code(
        &self,
        status: StatusCode,
        code: u16,
        error: &str,
        msg: &str,
        data: Value,
    ) -> Response {
        let body = json!({
            "code": self.code_value(code),
            "error": error,
            "msg": msg,
            "data": data,
        });
        (status, Json(body)).into_response()
    }

    /// The real API answers most refusals with the same text in error and msg.
    pub(super) fn refusal(&self, status: StatusCode, error: &str) -> Response {
        self.envelope(status, error, error, Value::Null)
    }

    fn bad_request(&self, detail: &str) -> Response {
        bump(&self.counters.bad_requests);
        self.envelope(
            StatusCode::BAD_REQUEST,
            "SOME PARAMETERS ARE REQUIRED",
            &format!("SOME PARAMETERS ARE REQUIRED: {detail}"),
            Value::Null,
        )
    }

    pub(super) fn busy(&self) -> Response {
        self.refusal(
            StatusCode::FORBIDDEN,
            &format!(
                "EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN ({})",
                self.opts.max_in_flight
            ),
        )
    }

    /// `None` when the token is the configured one.
    fn token_refusal(&self, headers: &HeaderMap) -> Option<Response> {
        match headers.get(TOKEN_HEADER) {
            None => {
                bump(&self.counters.rejected_auth);
                Some(self.refusal(StatusCode::UNAUTHORIZED, "PLEASE ENTER THE WOLKVOX-TOKEN"))
            }
            Some(value) if value.as_bytes() == self.opts.token.as_bytes() => None,
            Some(_) => {
                bump(&self.counters.rejected_auth);
                Some(self.refusal(StatusCode::FORBIDDEN, "PLEASE VALIDATE TOKEN"))
            }
        }
    }

    /// Counts the arriving request before deciding, so an overflow shows in
    /// `max_in_flight` even though it is refused.
    fn enter(&self) -> Option<InFlightSlot<'_>> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let slot = InFlightSlot(&self.in_flight);
        self.counters.max_in_flight.fetch_max(now, Ordering::SeqCst);
        (now <= self.opts.max_in_flight).then_some(slot)
    }

    /// Check and count in one atomic step so concurrent requests cannot
    /// overshoot the limit.
    fn take_quota(&self) -> bool {
        match self.opts.daily_limit {
            None => {
                self.quota_used.fetch_add(1, Ordering::SeqCst);
                true
            }
            Some(limit) => self
                .quota_used
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                    (used < limit).then_some(used + 1)
                })
                .is_ok(),
        }
    }

    fn token_information(&self) -> Response {
        let hours_used = self.started.elapsed().as_secs() / 3600 % 24;
        self.envelope(
            StatusCode::OK,
            "null",
            "Token information",
            json!({
                "token_limit": self.opts.daily_limit.unwrap_or(UNLIMITED_REPORTED),
                "token_use_today": self.quota_used.load(Ordering::SeqCst),
                "hours_to_restart_count": 24 - hours_used,
            }),
        )
    }

    fn insert(&self, body: &[u8]) -> Response {
        let body = match parse_json(body) {
            Ok(body) => body,
            Err(detail) => return self.bad_request(&detail),
        };
        let (record, _) = match validate_obligation(&body, true) {
            Ok(found) => found,
            Err(detail) => return self.bad_request(&detail),
        };
        match lock(&self.store).insert(record, body) {
            Ok(id) => {
                bump(&self.counters.inserts);
                self.envelope(
                    StatusCode::OK,
                    "null",
                    "Succesfully create record",
                    json!({ "wolkvox_id": id }),
                )
            }
            Err(err) => self.ledger_failure(&err),
        }
    }

    fn update(&self, body: &[u8]) -> Response {
        let body = match parse_json(body) {
            Ok(body) => body,
            Err(detail) => return self.bad_request(&detail),
        };
        let (record, obligation) = match validate_obligation(&body, false) {
            Ok(found) => found,
            Err(detail) => return self.bad_request(&detail),
        };
        match lock(&self.store).update(record, obligation, body) {
            Ok(Some(id)) => {
                bump(&self.counters.updates);
                self.envelope(
                    StatusCode::OK,
                    "null",
                    "Succesfully update record",
                    json!({ "wolkvox_id": id }),
                )
            }
            Ok(None) => self.refusal(StatusCode::NOT_FOUND, "OBLIGATION NOT FOUND"),
            Err(err) => self.ledger_failure(&err),
        }
    }

    fn query(&self, body: &[u8]) -> Response {
        let body = match parse_json(body) {
            Ok(body) => body,
            Err(detail) => return self.bad_request(&detail),
        };
        let mut wanted = Vec::with_capacity(3);
        for key in ["operation", "obligation", "wolkvox_id"] {
            match body.get(key) {
                Some(Value::String(s)) if !s.is_empty() => wanted.push(s.as_str()),
                _ => return self.bad_request(&format!("{key} (must be a non-empty string)")),
            }
        }
        let (obligation, record) = (wanted[1], wanted[2]);
        bump(&self.counters.queries);
        let found = lock(&self.store).query(record, obligation);
        if found.is_empty() {
            // The real API says "not found" with HTTP 200 and a 404 code.
            return self.envelope_with_code(
                StatusCode::OK,
                404,
                "NO RECORDS FOUND",
                "NO RECORDS FOUND",
                json!([]),
            );
        }
        self.envelope(
            StatusCode::OK,
            "null",
            "Succesfully query records",
            Value::Array(found),
        )
    }

    fn ledger_failure(&self, err: &io::Error) -> Response {
        tracing::error!(%err, "fake CRM could not write its ledger; nothing stored");
        self.refusal(StatusCode::INTERNAL_SERVER_ERROR, "LEDGER WRITE FAILED")
    }
}

fn parse_json(bytes: &[u8]) -> Result<Value, String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err("body (must be a JSON object)".into()),
        Err(err) => Err(format!("body (not valid JSON: {err})")),
    }
}

/// Applies the real API's strict checks; returns the record's wolkvox_id and
/// the obligation id. `complete` is for inserts, which need every field.
fn validate_obligation(body: &Value, complete: bool) -> Result<(String, String), String> {
    let non_empty = |value: Option<&Value>, name: &str| match value {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(format!("{name} (must not be empty)")),
        Some(_) => Err(format!("{name} (must be a string)")),
        None => Err(format!("{name} (missing)")),
    };
    non_empty(body.get("operation"), "operation")?;
    let record = non_empty(body.get("wolkvox_id"), "wolkvox_id")?;
    let fields = match body.get("fields") {
        Some(Value::Object(fields)) => fields,
        Some(_) => return Err("fields (must be an object)".into()),
        None => return Err("fields (missing)".into()),
    };
    let obligation = non_empty(fields.get("id"), "fields.id")?;
    if complete {
        if let Some(missing) = OBLIGATION_FIELDS.iter().find(|f| !fields.contains_key(**f)) {
            return Err(format!("fields.{missing} (missing)"));
        }
    }
    for (name, value) in fields {
        if name == "form" {
            validate_form(value)?;
        } else if !value.is_string() {
            return Err(format!("fields.{name} (must be a string)"));
        }
    }
    Ok((record, obligation))
}

fn validate_form(form: &Value) -> Result<(), String> {
    let Value::Array(items) = form else {
        return Err("fields.form (must be an array)".into());
    };
    for (i, item) in items.iter().enumerate() {
        let Value::Object(item) = item else {
            return Err(format!("fields.form[{i}] (must be an object)"));
        };
        for key in ["name", "value"] {
            match item.get(key) {
                Some(Value::String(_)) => {}
                Some(_) => return Err(format!("fields.form[{i}].{key} (must be a string)")),
                None => return Err(format!("fields.form[{i}].{key} (missing)")),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_crm::test_client::*;
    use crate::fake_crm::FakeCrmOptions;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpStream;

    #[tokio::test]
    async fn insert_success_has_the_real_shape() {
        let crm = start(FakeCrmOptions::default()).await;
        assert!(crm.base_url().starts_with("http://127.0.0.1:"));
        assert!(crm.base_url().ends_with("/server/API/v2/"));
        let reply = insert(&crm, &obligation("rec1", "OB-1")).await;
        assert_eq!(reply.status, 200);
        assert!(reply
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
        let v = reply.json();
        assert_eq!(v["code"], json!(200));
        assert_eq!(v["error"], json!("null"));
        assert_eq!(v["msg"], json!("Succesfully create record"));
        let id = v["data"]["wolkvox_id"].as_str().unwrap();
        assert!(!id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()));

        let second = insert(&crm, &obligation("rec1", "OB-2")).await.json();
        assert_ne!(second["data"]["wolkvox_id"].as_str().unwrap(), id);

        let ledger = crm.ledger_entries();
        assert_eq!(ledger.len(), 2);
        assert_eq!(ledger[0]["seq"], json!(1));
        assert_eq!(ledger[0]["method"], json!("POST"));
        assert_eq!(ledger[0]["wolkvox_id"], json!("rec1"));
        assert_eq!(ledger[0]["obligation"], json!("OB-1"));
        assert_eq!(ledger[0]["obligation_wolkvox_id"], json!(id));
        assert_eq!(ledger[0]["body"], obligation("rec1", "OB-1"));
        let stats = crm.stats();
        assert_eq!(
            (stats.requests, stats.inserts, stats.max_in_flight),
            (2, 2, 1)
        );
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn invalid_bodies_get_400_naming_the_field() {
        let crm = start(FakeCrmOptions::default()).await;
        let mut missing = obligation("rec1", "OB-1");
        missing["fields"]
            .as_object_mut()
            .unwrap()
            .remove("total_balance");
        let mut number = obligation("rec1", "OB-1");
        number["fields"]["days_delay"] = json!(30);
        let mut bad_form = obligation("rec1", "OB-1");
        bad_form["fields"]["form"] = json!([{"name": "x", "value": 1}]);
        let mut empty_id = obligation("rec1", "OB-1");
        empty_id["fields"]["id"] = json!("");
        let mut no_record = obligation("rec1", "OB-1");
        no_record.as_object_mut().unwrap().remove("wolkvox_id");
        let cases = [
            (missing, "fields.total_balance"),
            (number, "fields.days_delay"),
            (bad_form, "fields.form[0].value"),
            (empty_id, "fields.id"),
            (no_record, "wolkvox_id"),
        ];
        for (body, detail) in &cases {
            let reply = insert(&crm, body).await;
            assert_eq!(reply.status, 400, "{detail}");
            let v = reply.json();
            assert_eq!(v["code"], json!(400));
            assert_eq!(v["error"], json!("SOME PARAMETERS ARE REQUIRED"));
            assert_eq!(v["data"], Value::Null);
            let msg = v["msg"].as_str().unwrap();
            assert!(msg.starts_with("SOME PARAMETERS ARE REQUIRED: "), "{msg}");
            assert!(msg.contains(detail), "{msg} should name {detail}");
        }
        let mut stream = TcpStream::connect(crm.local_addr()).await.unwrap();
        let raw = b"POST /server/API/v2/collections/insertObligation.php HTTP/1.1\r\nHost: x\r\n\
            Connection: close\r\nWolkvox-Token: fake-token\r\nContent-Length: 5\r\n\r\n{nope";
        stream.write_all(raw).await.unwrap();
        let mut out = Vec::new();
        read_all(&mut stream, &mut out).await;
        let reply = parse(&out);
        assert_eq!(reply.status, 400);
        assert!(reply.json()["msg"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"));

        assert!(crm.ledger_entries().is_empty());
        assert_eq!(crm.stats().bad_requests, cases.len() as u64 + 1);
        assert_eq!(crm.stats().inserts, 0);
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn missing_and_wrong_tokens_are_refused() {
        let crm = start(FakeCrmOptions::default()).await;
        let body = obligation("rec1", "OB-1");
        let reply = call(&crm, "POST", INSERT_PATH, None, Some(&body)).await;
        assert_eq!(reply.status, 401);
        let v = reply.json();
        assert_eq!(v["code"], json!(401));
        assert_eq!(v["error"], json!("PLEASE ENTER THE WOLKVOX-TOKEN"));
        assert_eq!(v["msg"], json!("PLEASE ENTER THE WOLKVOX-TOKEN"));

        let reply = call(&crm, "POST", INSERT_PATH, Some("other"), Some(&body)).await;
        assert_eq!(reply.status, 403);
        assert_eq!(reply.json()["error"], json!("PLEASE VALIDATE TOKEN"));
        assert_eq!(reply.json()["msg"], json!("PLEASE VALIDATE TOKEN"));

        assert!(crm.ledger_entries().is_empty());
        assert_eq!(crm.stats().rejected_auth, 2);
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn quota_runs_out_after_the_daily_limit() {
        let crm = start(FakeCrmOptions {
            daily_limit: Some(3),
            ..Default::default()
        })
        .await;
        let info_path = format!("{TOKEN_INFO_PATH}?operation=op1");
        let info = call(&crm, "GET", &info_path, Some(TOKEN), None)
            .await
            .json();
        assert_eq!(info["data"]["token_limit"], json!(3));
        assert_eq!(info["data"]["token_use_today"], json!(1));
        assert_eq!(insert(&crm, &obligation("r", "1")).await.status, 200);
        assert_eq!(query(&crm, "r", "1").await.status, 200);
        for _ in 0..2 {
            let reply = insert(&crm, &obligation("r", "2")).await;
            assert_eq!(reply.status, 403);
            assert_eq!(reply.json()["error"], json!("TOKEN LIMIT EXCEEDED"));
        }
        let reply = call(&crm, "GET", &info_path, Some(TOKEN), None).await;
        assert_eq!(reply.status, 403);
        assert_eq!(crm.ledger_entries().len(), 1);
        assert_eq!(crm.stats().rejected_quota, 3);
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn third_simultaneous_request_is_refused() {
        let crm = start(FakeCrmOptions {
            latency: Duration::from_millis(300),
            ..Default::default()
        })
        .await;
        let bodies: Vec<Value> = (0..3)
            .map(|i| obligation("rec", &format!("OB-{i}")))
            .collect();
        let replies = tokio::join!(
            insert(&crm, &bodies[0]),
            insert(&crm, &bodies[1]),
            insert(&crm, &bodies[2]),
        );
        let replies = [replies.0, replies.1, replies.2];
        let ok = replies.iter().filter(|r| r.status == 200).count();
        let busy: Vec<&Reply> = replies.iter().filter(|r| r.status == 403).collect();
        assert_eq!((ok, busy.len()), (2, 1));
        let v = busy[0].json();
        assert_eq!(
            v["error"],
            json!("EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN (2)")
        );
        let stats = crm.stats();
        assert_eq!(stats.max_in_flight, 3);
        assert_eq!(stats.rejected_busy, 1);
        assert_eq!(crm.ledger_entries().len(), 2);
        // Refused requests cost no quota.
        let info_path = format!("{TOKEN_INFO_PATH}?operation=op1");
        let info = call(&crm, "GET", &info_path, Some(TOKEN), None)
            .await
            .json();
        assert_eq!(info["data"]["token_use_today"], json!(3));
        assert_eq!(info["data"]["token_limit"], json!(UNLIMITED_REPORTED));
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn update_merges_existing_and_404s_missing() {
        let crm = start(FakeCrmOptions::default()).await;
        let id =
            insert(&crm, &obligation("rec1", "OB-1")).await.json()["data"]["wolkvox_id"].clone();
        let change = json!({
            "operation": "op1",
            "wolkvox_id": "rec1",
            "fields": {"id": "OB-1", "total_balance": "900", "days_delay": "45"}
        });
        let reply = call(&crm, "PUT", INSERT_PATH, Some(TOKEN), Some(&change)).await;
        assert_eq!(reply.status, 200);
        let v = reply.json();
        assert_eq!(v["msg"], json!("Succesfully update record"));
        assert_eq!(v["data"]["wolkvox_id"], id);

        let found = query(&crm, "rec1", "OB-1").await.json();
        assert_eq!(found["data"][0]["total_balance"], json!("900"));
        assert_eq!(found["data"][0]["days_delay"], json!("45"));
        assert_eq!(found["data"][0]["name"], json!("ANA PEREZ"));

        let mut missing = change.clone();
        missing["fields"]["id"] = json!("OB-404");
        let reply = call(&crm, "PUT", INSERT_PATH, Some(TOKEN), Some(&missing)).await;
        assert_eq!(reply.status, 404);
        assert_eq!(reply.json()["error"], json!("OBLIGATION NOT FOUND"));
        assert_eq!(reply.json()["msg"], json!("OBLIGATION NOT FOUND"));

        let mut not_string = change.clone();
        not_string["fields"]["total_balance"] = json!(900);
        let reply = call(&crm, "PUT", INSERT_PATH, Some(TOKEN), Some(&not_string)).await;
        assert_eq!(reply.status, 400);

        let ledger = crm.ledger_entries();
        assert_eq!(ledger.len(), 2);
        assert_eq!(ledger[1]["method"], json!("PUT"));
        assert_eq!(ledger[1]["obligation_wolkvox_id"], id);
        assert_eq!(crm.stats().updates, 1);
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn query_lists_every_copy_or_says_none() {
        let crm = start(FakeCrmOptions::default()).await;
        let first = insert(&crm, &obligation("rec1", "OB-1")).await.json();
        let again = insert(&crm, &obligation("rec1", "OB-1")).await.json();
        assert_eq!(again["code"], json!(200), "duplicates are accepted");

        let reply = query(&crm, "rec1", "OB-1").await;
        assert_eq!(reply.status, 200);
        let v = reply.json();
        assert_eq!(v["code"], json!(200));
        let data = v["data"].as_array().unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data[0]["wolkvox_id"], first["data"]["wolkvox_id"]);
        assert_eq!(data[1]["wolkvox_id"], again["data"]["wolkvox_id"]);
        assert_eq!(data[0]["id"], json!("OB-1"));
        assert_eq!(data[0]["form"][0]["value"], json!("Bogotá"));

        // GET with a body is accepted too.
        let body = query_body("rec1", "OB-1");
        let reply = call(&crm, "GET", QUERY_PATH, Some(TOKEN), Some(&body)).await;
        assert_eq!(reply.json()["data"].as_array().unwrap().len(), 2);

        for (record, id) in [("rec1", "OB-2"), ("rec2", "OB-1")] {
            let reply = query(&crm, record, id).await;
            assert_eq!(reply.status, 200);
            assert_eq!(
                reply.json(),
                json!({"code": 404, "error": "NO RECORDS FOUND", "msg": "NO RECORDS FOUND", "data": []})
            );
        }
        assert_eq!(crm.stats().queries, 4);
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn token_information_reports_usage_and_needs_operation() {
        let crm = start(FakeCrmOptions {
            daily_limit: Some(50),
            ..Default::default()
        })
        .await;
        insert(&crm, &obligation("r", "1")).await;
        let path = format!("{TOKEN_INFO_PATH}?operation=op1");
        let reply = call(&crm, "GET", &path, Some(TOKEN), None).await;
        assert_eq!(reply.status, 200);
        let v = reply.json();
        assert_eq!(v["code"], json!(200));
        assert_eq!(v["error"], json!("null"));
        assert_eq!(v["data"]["token_limit"], json!(50));
        assert_eq!(v["data"]["token_use_today"], json!(2));
        assert_eq!(v["data"]["hours_to_restart_count"], json!(24));
        let reply = call(&crm, "GET", TOKEN_INFO_PATH, Some(TOKEN), None).await;
        assert_eq!(reply.status, 400);
        let reply = call(&crm, "GET", &path, None, None).await;
        assert_eq!(reply.status, 401);
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn code_styles_string_and_mixed() {
        let crm = start(FakeCrmOptions {
            code_style: CodeStyle::String,
            ..Default::default()
        })
        .await;
        let v = insert(&crm, &obligation("r", "1")).await.json();
        assert_eq!(v["code"], json!("200"));
        let v = query(&crm, "r", "nope").await.json();
        assert_eq!(v["code"], json!("404"));
        let v = call(&crm, "POST", INSERT_PATH, None, None).await.json();
        assert_eq!(v["code"], json!("401"));
        crm.shutdown().await;

        let crm = start(FakeCrmOptions {
            code_style: CodeStyle::Mixed,
            seed: 7,
            ..Default::default()
        })
        .await;
        let mut kinds = (0, 0);
        for _ in 0..16 {
            match query(&crm, "r", "1").await.json()["code"] {
                Value::String(_) => kinds.0 += 1,
                Value::Number(_) => kinds.1 += 1,
                ref other => panic!("unexpected code {other}"),
            }
        }
        assert!(kinds.0 > 0 && kinds.1 > 0, "{kinds:?}");
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn stats_endpoint_needs_no_token() {
        let crm = start(FakeCrmOptions::default()).await;
        insert(&crm, &obligation("r", "1")).await;
        call(&crm, "GET", "/server/API/v2/nothing.php", Some(TOKEN), None).await;
        let reply = call(&crm, "GET", STATS_PATH, None, None).await;
        assert_eq!(reply.status, 200);
        let v = reply.json();
        assert_eq!(v["requests"], json!(2));
        assert_eq!(v["inserts"], json!(1));
        assert_eq!(v["max_in_flight"], json!(1));
        crm.shutdown().await;
    }
}
