//! A local stand-in for the wolkvox CRM collections API.
//!
//! The real API is rate limited per day, refuses more than a couple of
//! simultaneous requests per token, and misbehaves in ways a loader must
//! survive (maintenance pages, bodies that are not JSON, `code` written as a
//! string, connections that die after the record was already saved). Tests,
//! benchmarks and user rehearsals cannot use the real service for any of
//! that, so this module imitates it on a local port, with every kind of
//! misbehaviour available on demand and reproducible from a seed.
//!
//! Every accepted insert and update is kept in memory and, when a ledger path
//! is given, appended to a JSON Lines file. The ledger is the ground truth a
//! test compares with what the client believes it sent: duplicates are stored
//! exactly like the real API stores them, so they show up there. Restarting a
//! fake on the same ledger replays it, so a resumed import meets the records
//! an interrupted one left behind.
//!
//! Connections are served by hand (an accept loop plus hyper's HTTP/1
//! connection driver around the axum router) rather than by `axum::serve`,
//! because the "dropped after commit" fault has to close a socket without
//! writing a single byte, which a normal handler cannot do.

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tracing::debug;

const INSERT_PATH: &str = "/server/API/v2/collections/insertObligation.php";
const QUERY_PATH: &str = "/server/API/v2/collections/queryObligation.php";
const TOKEN_INFO_PATH: &str = "/server/API/v2/token/tokenInformation.php";
/// Outside the API prefix so it can never shadow a real endpoint.
const STATS_PATH: &str = "/__fake/stats";
const TOKEN_HEADER: &str = "wolkvox-token";

/// The fields the real API insists on when an obligation is created.
const OBLIGATION_FIELDS: [&str; 8] = [
    "id",
    "name",
    "total_balance",
    "portfolio_type",
    "last_pay",
    "last_pay_date",
    "expiring_date",
    "days_delay",
];

/// Far above any real obligation body; only guards against runaway clients.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// What token information reports as the limit when none is configured; the
/// real API always reports some number, and clients divide by it.
const UNLIMITED_REPORTED: u64 = 1_000_000;
/// Ids start here so they look like the short hex ids the real API returns
/// instead of "0cb", "1cb".
const FIRST_ID_COUNTER: u64 = 0x1000;
const ID_SUFFIX: &str = "cb";

const MAINTENANCE_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n\
<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request due to \
maintenance downtime. Please try again later.</p></body></html>\n";
/// Cut where a proxy cutting a real answer short would leave it.
const MALFORMED_BODY: &str = "{\"code\": 200, \"error\"";

/// How the `code` member of JSON answers is written.
///
/// The real API is inconsistent about it, so a client must accept both;
/// `Mixed` makes sure it does within one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodeStyle {
    /// `"code": 200`
    #[default]
    Number,
    /// `"code": "200"`
    String,
    /// Either, chosen per answer from the seeded RNG.
    Mixed,
}

/// How the fake behaves. Start from `Default` and change what a test needs.
///
/// The fault rates are slices of one uniform roll per insert, update or query
/// request, taken in field order (fail, throttle, busy, html, malformed,
/// failing code, drop after commit, slow), so each rate is the real share of
/// requests that get that fault as long as the rates add up to at most 1;
/// beyond that the later kinds only get what is left.
#[derive(Clone)]
pub struct FakeCrmOptions {
    /// The only value of `Wolkvox-Token` that is accepted.
    pub token: String,
    /// Requests allowed per "day" (the life of this fake); `None` for no limit.
    pub daily_limit: Option<u64>,
    /// Requests the token may have in flight at once before the extra ones
    /// are refused; the real API allows 2. Must be at least 1.
    pub max_in_flight: usize,
    /// Added to every request that passed auth, quota and concurrency checks,
    /// while it holds its in-flight slot, so concurrency limits can be hit.
    pub latency: Duration,
    /// 503 with a JSON envelope; nothing stored.
    pub fail_rate: f64,
    /// 429 with `Retry-After: 1`; nothing stored.
    pub throttle_rate: f64,
    /// The 403 "simultaneous requests" answer without real concurrency.
    pub busy_rate: f64,
    /// 503 with an HTML maintenance page; nothing stored.
    pub html_rate: f64,
    /// 200 whose body is not JSON; nothing stored.
    pub malformed_rate: f64,
    /// 200 whose envelope says `"code": "503"`; nothing stored.
    pub failing_code_rate: f64,
    /// The request is carried out (an insert or update is stored and written
    /// to the ledger), then the connection is closed without a single byte of
    /// answer. Queries and refused bodies get the same treatment.
    pub drop_after_commit_rate: f64,
    /// The request is carried out, then answered only after `slow_delay`,
    /// keeping its in-flight slot meanwhile as a stuck server would.
    pub slow_rate: f64,
    /// See `slow_rate`; meant to be longer than the client's timeout.
    pub slow_delay: Duration,
    /// How `code` is written in JSON answers.
    pub code_style: CodeStyle,
    /// Seeds the one RNG behind faults and `CodeStyle::Mixed`.
    pub seed: u64,
    /// JSON Lines file of accepted inserts and updates, replayed at start.
    pub ledger: Option<PathBuf>,
}

impl Default for FakeCrmOptions {
    fn default() -> Self {
        FakeCrmOptions {
            token: "fake-token".to_string(),
            daily_limit: None,
            max_in_flight: 2,
            latency: Duration::ZERO,
            fail_rate: 0.0,
            throttle_rate: 0.0,
            busy_rate: 0.0,
            html_rate: 0.0,
            malformed_rate: 0.0,
            failing_code_rate: 0.0,
            drop_after_commit_rate: 0.0,
            slow_rate: 0.0,
            slow_delay: Duration::from_secs(60),
            code_style: CodeStyle::Number,
            seed: 0,
            ledger: None,
        }
    }
}

/// Written by hand so that options can be logged without leaking the token.
impl fmt::Debug for FakeCrmOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeCrmOptions")
            .field("token", &"<redacted>")
            .field("daily_limit", &self.daily_limit)
            .field("max_in_flight", &self.max_in_flight)
            .field("latency", &self.latency)
            .field("fail_rate", &self.fail_rate)
            .field("throttle_rate", &self.throttle_rate)
            .field("busy_rate", &self.busy_rate)
            .field("html_rate", &self.html_rate)
            .field("malformed_rate", &self.malformed_rate)
            .field("failing_code_rate", &self.failing_code_rate)
            .field("drop_after_commit_rate", &self.drop_after_commit_rate)
            .field("slow_rate", &self.slow_rate)
            .field("slow_delay", &self.slow_delay)
            .field("code_style", &self.code_style)
            .field("seed", &self.seed)
            .field("ledger", &self.ledger)
            .finish()
    }
}

impl FakeCrmOptions {
    fn fault_table(&self) -> [(f64, Fault); 8] {
        [
            (self.fail_rate, Fault::Fail),
            (self.throttle_rate, Fault::Throttle),
            (self.busy_rate, Fault::Busy),
            (self.html_rate, Fault::Html),
            (self.malformed_rate, Fault::Malformed),
            (self.failing_code_rate, Fault::FailingCode),
            (self.drop_after_commit_rate, Fault::DropAfterCommit),
            (self.slow_rate, Fault::Slow),
        ]
    }

    fn validate(&self) -> io::Result<()> {
        let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
        if self.max_in_flight == 0 {
            return Err(invalid("max_in_flight must be at least 1".into()));
        }
        for (rate, fault) in self.fault_table() {
            if !(0.0..=1.0).contains(&rate) {
                return Err(invalid(format!(
                    "{fault:?} rate must be between 0 and 1, got {rate}"
                )));
            }
        }
        Ok(())
    }
}

/// Counters a test reads to judge the client, not the fake.
///
/// `requests` counts every API request (not `/__fake/stats`). `inserts`,
/// `updates` and `queries` count requests actually carried out (an update of
/// a missing obligation is not one). `rejected_busy` counts only refusals
/// caused by real concurrency, so a test can assert it stayed 0 even with
/// `busy_rate` set; injected faults, drops and slow answers included, are
/// counted in `faults`, and drops also in `drops`. `max_in_flight` includes
/// the request that overflowed, so exceeding the limit is always visible.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FakeCrmStats {
    pub requests: u64,
    pub max_in_flight: usize,
    pub inserts: u64,
    pub updates: u64,
    pub queries: u64,
    pub rejected_busy: u64,
    pub rejected_quota: u64,
    pub rejected_auth: u64,
    pub bad_requests: u64,
    pub faults: u64,
    pub drops: u64,
}

/// A running fake CRM. Dropping it also stops it, but only `shutdown` waits
/// until the port and the ledger are released.
pub struct FakeCrm {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl FakeCrm {
    /// Binds (use "127.0.0.1:0" for a free port) and starts serving in a spawned task.
    ///
    /// Fails if the options are inconsistent, the port cannot be bound, or
    /// the ledger exists but cannot be read back.
    pub async fn start(listen: SocketAddr, opts: FakeCrmOptions) -> io::Result<FakeCrm> {
        opts.validate()?;
        let store = Store::open(opts.ledger.as_deref())?;
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            rng: Mutex::new(SmallRng::seed_from_u64(opts.seed)),
            opts,
            started: Instant::now(),
            counters: Counters::default(),
            in_flight: AtomicUsize::new(0),
            quota_used: AtomicU64::new(0),
            store: Mutex::new(store),
        });
        let router = Router::new()
            .route(STATS_PATH, get(stats_handler))
            .fallback(api_handler)
            .with_state(shared.clone());
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, router, stop_rx));
        debug!(%addr, opts = ?shared.opts, "fake CRM listening");
        Ok(FakeCrm {
            addr,
            shared,
            stop,
            task: Some(task),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// e.g. "http://127.0.0.1:4321/server/API/v2/"
    pub fn base_url(&self) -> String {
        format!("http://{}/server/API/v2/", self.addr)
    }

    pub fn stats(&self) -> FakeCrmStats {
        self.shared.stats()
    }

    /// Every stored obligation insert/update so far, as ledger entries (serde_json::Value), in order.
    ///
    /// Includes the entries replayed from an existing ledger, so it always
    /// describes everything the fake holds.
    pub fn ledger_entries(&self) -> Vec<serde_json::Value> {
        lock(&self.shared.store)
            .entries
            .iter()
            .map(|e| serde_json::from_str(e).expect("entries are stored as valid JSON"))
            .collect()
    }

    /// Stops accepting and closes the listener and all connections.
    ///
    /// Requests still being handled are abandoned without an answer, like a
    /// server that goes away.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take() {
            if let Err(err) = task.await {
                debug!(%err, "fake CRM accept loop ended abnormally");
            }
        }
    }
}

impl Drop for FakeCrm {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// Locks ignoring poison: a panicking test thread must not turn every later
/// request into a second, misleading panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    max_in_flight: AtomicUsize,
    inserts: AtomicU64,
    updates: AtomicU64,
    queries: AtomicU64,
    rejected_busy: AtomicU64,
    rejected_quota: AtomicU64,
    rejected_auth: AtomicU64,
    bad_requests: AtomicU64,
    faults: AtomicU64,
    drops: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

struct Shared {
    opts: FakeCrmOptions,
    started: Instant,
    counters: Counters,
    in_flight: AtomicUsize,
    quota_used: AtomicU64,
    rng: Mutex<SmallRng>,
    store: Mutex<Store>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Fail,
    Throttle,
    Busy,
    Html,
    Malformed,
    FailingCode,
    DropAfterCommit,
    Slow,
}

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

/// Put in each request's extensions by the connection task; firing it makes
/// that task drop the connection.
#[derive(Clone)]
struct DropConnection(Arc<Notify>);

impl Shared {
    fn stats(&self) -> FakeCrmStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FakeCrmStats {
            requests: get(&c.requests),
            max_in_flight: c.max_in_flight.load(Ordering::SeqCst),
            inserts: get(&c.inserts),
            updates: get(&c.updates),
            queries: get(&c.queries),
            rejected_busy: get(&c.rejected_busy),
            rejected_quota: get(&c.rejected_quota),
            rejected_auth: get(&c.rejected_auth),
            bad_requests: get(&c.bad_requests),
            faults: get(&c.faults),
            drops: get(&c.drops),
        }
    }

    fn code_value(&self, code: u16) -> Value {
        let as_string = match self.opts.code_style {
            CodeStyle::Number => false,
            CodeStyle::String => true,
            CodeStyle::Mixed => lock(&self.rng).random_bool(0.5),
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
    fn refusal(&self, status: StatusCode, error: &str) -> Response {
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

    fn busy(&self) -> Response {
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

    fn draw_fault(&self) -> Option<Fault> {
        let table = self.opts.fault_table();
        // Without faults, leave the RNG to `CodeStyle::Mixed` so its sequence
        // does not depend on how many requests were made.
        if table.iter().all(|(rate, _)| *rate <= 0.0) {
            return None;
        }
        let roll: f64 = lock(&self.rng).random();
        let mut edge = 0.0;
        for (rate, fault) in table {
            edge += rate;
            if roll < edge {
                return Some(fault);
            }
        }
        None
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

    /// Answers for the faults that replace the request entirely.
    fn fault_response(&self, fault: Fault) -> Option<Response> {
        let resp = match fault {
            Fault::Fail => self.refusal(StatusCode::SERVICE_UNAVAILABLE, "SERVICE UNAVAILABLE"),
            Fault::Throttle => {
                let mut resp = self.refusal(StatusCode::TOO_MANY_REQUESTS, "TOO MANY REQUESTS");
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                resp
            }
            Fault::Busy => self.busy(),
            Fault::Html => (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
                MAINTENANCE_PAGE,
            )
                .into_response(),
            Fault::Malformed => json_response(StatusCode::OK, MALFORMED_BODY.as_bytes().to_vec()),
            Fault::FailingCode => json_response(
                StatusCode::OK,
                // Always a string: that is how the real API writes it here.
                br#"{"code":"503","error":"SERVICE TEMPORARILY UNAVAILABLE","msg":"SERVICE TEMPORARILY UNAVAILABLE","data":null}"#
                    .to_vec(),
            ),
            Fault::DropAfterCommit | Fault::Slow => return None,
        };
        Some(resp)
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(body),
    )
        .into_response()
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

struct StoredObligation {
    id: String,
    /// The `fields` object as JSON text: a million obligations held as
    /// `Value` trees would take gigabytes.
    fields: Box<str>,
}

/// What the fake holds. Every change goes through `commit`, which is also
/// what replay uses, so a restarted fake cannot disagree with the one that
/// wrote the ledger.
struct Store {
    /// (record wolkvox_id, obligation id) -> every stored copy, oldest first.
    obligations: HashMap<(String, String), Vec<StoredObligation>>,
    /// Ledger entries as JSON text, in order.
    entries: Vec<Box<str>>,
    next_id: u64,
    next_seq: u64,
    ledger: Option<File>,
}

impl Store {
    fn open(path: Option<&Path>) -> io::Result<Store> {
        let mut store = Store {
            obligations: HashMap::new(),
            entries: Vec::new(),
            next_id: FIRST_ID_COUNTER,
            next_seq: 1,
            ledger: None,
        };
        let Some(path) = path else {
            return Ok(store);
        };
        match File::open(path) {
            Ok(file) => {
                for (n, line) in BufReader::new(file).lines().enumerate() {
                    let line = line?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    let bad = |why: String| {
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("ledger {} line {}: {why}", path.display(), n + 1),
                        )
                    };
                    let entry: Value =
                        serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
                    store.apply(entry).map_err(bad)?;
                }
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        store.ledger = Some(OpenOptions::new().create(true).append(true).open(path)?);
        Ok(store)
    }

    fn insert(&mut self, record: String, body: Value) -> io::Result<String> {
        let id = format!("{:x}{ID_SUFFIX}", self.next_id);
        self.commit("POST", record, id.clone(), body)?;
        Ok(id)
    }

    /// Every stored copy is updated, so queries stay consistent; the id
    /// answered is the oldest copy's.
    fn update(
        &mut self,
        record: String,
        obligation: String,
        body: Value,
    ) -> io::Result<Option<String>> {
        let key = (record, obligation);
        let Some(id) = self
            .obligations
            .get(&key)
            .and_then(|copies| copies.first())
            .map(|copy| copy.id.clone())
        else {
            return Ok(None);
        };
        self.commit("PUT", key.0, id.clone(), body)?;
        Ok(Some(id))
    }

    fn query(&self, record: &str, obligation: &str) -> Vec<Value> {
        let key = (record.to_string(), obligation.to_string());
        self.obligations
            .get(&key)
            .map(|copies| {
                copies
                    .iter()
                    .map(|copy| {
                        let mut fields: Map<String, Value> =
                            serde_json::from_str(&copy.fields).unwrap_or_default();
                        fields.insert("wolkvox_id".into(), Value::String(copy.id.clone()));
                        Value::Object(fields)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Ledger first: if the line cannot be written the client gets an error
    /// and memory is untouched, so the ledger never misses a stored record.
    fn commit(&mut self, method: &str, record: String, id: String, body: Value) -> io::Result<()> {
        let obligation = body
            .get("fields")
            .and_then(|f| f.get("id"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let entry = json!({
            "seq": self.next_seq,
            "method": method,
            "wolkvox_id": record,
            "obligation": obligation,
            "obligation_wolkvox_id": id,
            "body": body,
        });
        if let Some(file) = self.ledger.as_mut() {
            let mut line = serde_json::to_vec(&entry).map_err(io::Error::other)?;
            line.push(b'\n');
            file.write_all(&line)?;
            file.flush()?;
        }
        self.apply(entry).map_err(io::Error::other)
    }

    fn apply(&mut self, entry: Value) -> Result<(), String> {
        let text = |key: &str| {
            entry
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("{key} missing or not a string"))
        };
        let method = text("method")?;
        let key = (text("wolkvox_id")?, text("obligation")?);
        let id = text("obligation_wolkvox_id")?;
        let fields = match entry.get("body").and_then(|b| b.get("fields")) {
            Some(Value::Object(fields)) => fields.clone(),
            _ => return Err("body.fields missing or not an object".into()),
        };
        match method.as_str() {
            "POST" => {
                // Ids from an earlier run must never be handed out again.
                if let Some(counter) = id
                    .strip_suffix(ID_SUFFIX)
                    .and_then(|hex| u64::from_str_radix(hex, 16).ok())
                {
                    self.next_id = self.next_id.max(counter + 1);
                }
                self.obligations
                    .entry(key)
                    .or_default()
                    .push(StoredObligation {
                        id,
                        fields: Value::Object(fields).to_string().into_boxed_str(),
                    });
            }
            "PUT" => {
                let copies = self
                    .obligations
                    .get_mut(&key)
                    .ok_or_else(|| format!("update of unknown obligation {}/{}", key.0, key.1))?;
                for copy in copies {
                    let mut merged: Map<String, Value> =
                        serde_json::from_str(&copy.fields).unwrap_or_default();
                    for (name, value) in &fields {
                        merged.insert(name.clone(), value.clone());
                    }
                    copy.fields = Value::Object(merged).to_string().into_boxed_str();
                }
            }
            other => return Err(format!("unknown method {other:?}")),
        }
        let seq = entry
            .get("seq")
            .and_then(Value::as_u64)
            .unwrap_or(self.next_seq);
        self.next_seq = self.next_seq.max(seq + 1);
        self.entries.push(entry.to_string().into_boxed_str());
        Ok(())
    }
}

async fn stats_handler(State(shared): State<Arc<Shared>>) -> Json<FakeCrmStats> {
    Json(shared.stats())
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
    let fault = shared.draw_fault();
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

/// Also resolves when the `FakeCrm` is gone, so no task outlives its owner.
/// Returns nothing so no watch guard is held across the select's awaits.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

async fn accept_loop(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    let connection_stop = stop.clone();
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    debug!(%peer, "fake CRM connection");
                    connections.spawn(serve_connection(stream, router.clone(), connection_stop.clone()));
                }
                // Typically out of file descriptors; back off instead of spinning.
                Err(err) => {
                    debug!(%err, "fake CRM accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
    debug!("fake CRM stopped");
}

async fn serve_connection(stream: TcpStream, router: Router, mut stop: watch::Receiver<bool>) {
    // Answers are small; Nagle would only add latency to every test.
    if let Err(err) = stream.set_nodelay(true) {
        debug!(%err, "fake CRM could not set TCP_NODELAY");
    }
    let drop_signal = Arc::new(Notify::new());
    let marker = DropConnection(drop_signal.clone());
    let router = TowerToHyperService::new(router);
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(marker.clone());
            hyper::service::Service::call(&router, req)
        });
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = connection => {
            if let Err(err) = result {
                debug!(%err, "fake CRM connection ended with an error");
            }
        }
        // Dropping `connection` here closes the socket before hyper wrote anything.
        _ = drop_signal.notified() => debug!("fake CRM dropped a connection after commit"),
        _ = stopped(&mut stop) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const TOKEN: &str = "fake-token";

    struct Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Reply {
        fn json(&self) -> Value {
            serde_json::from_str(&self.body)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
        }

        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    async fn start(opts: FakeCrmOptions) -> FakeCrm {
        FakeCrm::start("127.0.0.1:0".parse().unwrap(), opts)
            .await
            .unwrap()
    }

    fn request_bytes(
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

    async fn connect_and_send(
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
    async fn read_all(stream: &mut TcpStream, out: &mut Vec<u8>) {
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

    fn parse(raw: &[u8]) -> Reply {
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

    async fn call(
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

    fn obligation(record: &str, id: &str) -> Value {
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

    fn query_body(record: &str, id: &str) -> Value {
        json!({"operation": "op1", "obligation": id, "wolkvox_id": record})
    }

    async fn insert(crm: &FakeCrm, body: &Value) -> Reply {
        call(crm, "POST", INSERT_PATH, Some(TOKEN), Some(body)).await
    }

    async fn query(crm: &FakeCrm, record: &str, id: &str) -> Reply {
        let body = query_body(record, id);
        call(crm, "POST", QUERY_PATH, Some(TOKEN), Some(&body)).await
    }

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

    async fn with_fault(opts: FakeCrmOptions) -> (FakeCrm, Reply) {
        let crm = start(opts).await;
        let reply = insert(&crm, &obligation("rec1", "OB-1")).await;
        (crm, reply)
    }

    #[tokio::test]
    async fn answer_faults_store_nothing() {
        let (crm, r) = with_fault(FakeCrmOptions {
            fail_rate: 1.0,
            ..Default::default()
        })
        .await;
        assert_eq!(r.status, 503);
        assert_eq!(r.json()["error"], json!("SERVICE UNAVAILABLE"));
        assert_eq!(r.json()["code"], json!(503));
        // Token information is never faulted.
        let path = format!("{TOKEN_INFO_PATH}?operation=op1");
        assert_eq!(
            call(&crm, "GET", &path, Some(TOKEN), None).await.status,
            200
        );
        assert_eq!(crm.stats().faults, 1);
        assert!(crm.ledger_entries().is_empty());
        crm.shutdown().await;

        let (crm, r) = with_fault(FakeCrmOptions {
            throttle_rate: 1.0,
            ..Default::default()
        })
        .await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("1"));
        assert!(crm.ledger_entries().is_empty());
        crm.shutdown().await;

        let (crm, r) = with_fault(FakeCrmOptions {
            busy_rate: 1.0,
            ..Default::default()
        })
        .await;
        assert_eq!(r.status, 403);
        assert_eq!(
            r.json()["msg"],
            json!("EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN (2)")
        );
        assert_eq!(crm.stats().rejected_busy, 0, "injected, not real");
        assert!(crm.ledger_entries().is_empty());
        crm.shutdown().await;

        let (crm, r) = with_fault(FakeCrmOptions {
            html_rate: 1.0,
            ..Default::default()
        })
        .await;
        assert_eq!(r.status, 503);
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        assert!(r.body.contains("<html>"));
        assert!(crm.ledger_entries().is_empty());
        crm.shutdown().await;

        let (crm, r) = with_fault(FakeCrmOptions {
            malformed_rate: 1.0,
            ..Default::default()
        })
        .await;
        assert_eq!(r.status, 200);
        assert!(serde_json::from_str::<Value>(&r.body).is_err());
        assert!(crm.ledger_entries().is_empty());
        crm.shutdown().await;

        let (crm, r) = with_fault(FakeCrmOptions {
            failing_code_rate: 1.0,
            ..Default::default()
        })
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["code"], json!("503"));
        assert_eq!(r.json()["error"], json!("SERVICE TEMPORARILY UNAVAILABLE"));
        assert!(crm.ledger_entries().is_empty());
        assert_eq!(crm.stats().inserts, 0);
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn drop_after_commit_stores_and_sends_zero_bytes() {
        let crm = start(FakeCrmOptions {
            drop_after_commit_rate: 1.0,
            ..Default::default()
        })
        .await;
        let body = obligation("rec1", "OB-1");
        let mut stream = connect_and_send(
            crm.local_addr(),
            "POST",
            INSERT_PATH,
            Some(TOKEN),
            Some(&body),
        )
        .await;
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), read_all(&mut stream, &mut raw))
            .await
            .expect("connection closed promptly");
        assert!(raw.is_empty(), "got {:?}", String::from_utf8_lossy(&raw));
        let ledger = crm.ledger_entries();
        assert_eq!(ledger.len(), 1);
        assert_eq!(ledger[0]["obligation"], json!("OB-1"));
        let stats = crm.stats();
        assert_eq!((stats.drops, stats.faults, stats.inserts), (1, 1, 1));
        // The in-flight slot was given back when the connection went away.
        let deadline = Instant::now() + Duration::from_secs(1);
        while crm.shared.in_flight.load(Ordering::SeqCst) != 0 {
            assert!(Instant::now() < deadline, "in-flight slot leaked");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn slow_answer_is_stored_first_and_answered_late() {
        let crm = start(FakeCrmOptions {
            slow_rate: 1.0,
            slow_delay: Duration::from_millis(400),
            ..Default::default()
        })
        .await;
        let started = Instant::now();
        let body = obligation("rec1", "OB-1");
        let mut stream = connect_and_send(
            crm.local_addr(),
            "POST",
            INSERT_PATH,
            Some(TOKEN),
            Some(&body),
        )
        .await;
        let mut raw = Vec::new();
        let early =
            tokio::time::timeout(Duration::from_millis(150), read_all(&mut stream, &mut raw)).await;
        assert!(early.is_err(), "a 150 ms client timeout must fire");
        assert!(raw.is_empty());
        assert_eq!(crm.ledger_entries().len(), 1, "stored before the delay");
        tokio::time::timeout(Duration::from_secs(5), read_all(&mut stream, &mut raw))
            .await
            .unwrap();
        assert!(started.elapsed() >= Duration::from_millis(400));
        let reply = parse(&raw);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json()["msg"], json!("Succesfully create record"));
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn same_seed_gives_same_faults() {
        let mut runs = Vec::new();
        for _ in 0..2 {
            let crm = start(FakeCrmOptions {
                fail_rate: 0.5,
                seed: 42,
                ..Default::default()
            })
            .await;
            let mut statuses = Vec::new();
            for i in 0..12 {
                statuses.push(insert(&crm, &obligation("r", &i.to_string())).await.status);
            }
            crm.shutdown().await;
            runs.push(statuses);
        }
        assert_eq!(runs[0], runs[1]);
        assert!(
            runs[0].contains(&200) && runs[0].contains(&503),
            "{:?}",
            runs[0]
        );
    }

    #[tokio::test]
    async fn ledger_is_replayed_after_a_restart_on_the_same_port() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        let opts = FakeCrmOptions {
            ledger: Some(path.clone()),
            ..Default::default()
        };
        let crm = start(opts.clone()).await;
        let addr = crm.local_addr();
        let a =
            insert(&crm, &obligation("rec1", "OB-1")).await.json()["data"]["wolkvox_id"].clone();
        let b =
            insert(&crm, &obligation("rec1", "OB-2")).await.json()["data"]["wolkvox_id"].clone();
        let change = json!({"operation": "op1", "wolkvox_id": "rec1", "fields": {"id": "OB-2", "name": "NEW"}});
        assert_eq!(
            call(&crm, "PUT", INSERT_PATH, Some(TOKEN), Some(&change))
                .await
                .status,
            200
        );
        let before = crm.ledger_entries();
        crm.shutdown().await;
        assert!(TcpStream::connect(addr).await.is_err(), "listener closed");

        let crm = FakeCrm::start(addr, opts).await.unwrap();
        assert_eq!(crm.local_addr(), addr);
        assert_eq!(crm.ledger_entries(), before);
        let found = query(&crm, "rec1", "OB-2").await.json();
        assert_eq!(found["data"][0]["name"], json!("NEW"));
        assert_eq!(found["data"][0]["wolkvox_id"], b);
        let c =
            insert(&crm, &obligation("rec1", "OB-3")).await.json()["data"]["wolkvox_id"].clone();
        assert_ne!(c, a);
        assert_ne!(c, b);
        let entries = crm.ledger_entries();
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[3]["seq"], json!(4));
        assert_eq!(crm.stats().inserts, 1, "stats are per run");
        crm.shutdown().await;

        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines, entries);
    }

    #[tokio::test]
    async fn broken_ledger_is_reported_not_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        std::fs::write(&path, "{\"seq\": 1, \"method\": \"PUT\"}\n").unwrap();
        let opts = FakeCrmOptions {
            ledger: Some(path),
            ..Default::default()
        };
        let err = FakeCrm::start("127.0.0.1:0".parse().unwrap(), opts)
            .await
            .err()
            .expect("start must fail");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("line 1"), "{err}");
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

    /// One answer from a kept-alive connection, delimited by Content-Length.
    async fn read_one(stream: &mut TcpStream) -> Reply {
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

    #[tokio::test]
    async fn refusals_keep_the_connection_alive() {
        let crm = start(FakeCrmOptions::default()).await;
        let body = obligation("rec1", "OB-1");
        let keep_alive = |token| {
            String::from_utf8(request_bytes("POST", INSERT_PATH, token, Some(&body)))
                .unwrap()
                .replace("Connection: close\r\n", "")
        };
        let mut stream = TcpStream::connect(crm.local_addr()).await.unwrap();
        for (token, status) in [(None, 401), (Some("bad"), 403), (Some(TOKEN), 200)] {
            stream
                .write_all(keep_alive(token).as_bytes())
                .await
                .unwrap();
            let reply = tokio::time::timeout(Duration::from_secs(5), read_one(&mut stream))
                .await
                .unwrap();
            assert_eq!(reply.status, status);
        }
        assert_eq!(crm.ledger_entries().len(), 1);
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

    #[tokio::test]
    async fn invalid_options_are_refused() {
        for opts in [
            FakeCrmOptions {
                max_in_flight: 0,
                ..Default::default()
            },
            FakeCrmOptions {
                fail_rate: 1.5,
                ..Default::default()
            },
            FakeCrmOptions {
                slow_rate: f64::NAN,
                ..Default::default()
            },
        ] {
            let err = FakeCrm::start("127.0.0.1:0".parse().unwrap(), opts)
                .await
                .err()
                .unwrap();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        }
        let debug = format!(
            "{:?}",
            FakeCrmOptions {
                token: "s3cret".into(),
                ..Default::default()
            }
        );
        assert!(!debug.contains("s3cret"));
    }
}
