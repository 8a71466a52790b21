//! End-to-end tests of sending: the real binary against the fake CRM served
//! in-process on 127.0.0.1, judged by the results file and by the fake's
//! ledger (what the "API" really stored) and counters.
//!
//! Every test checks the invariants that matter most to a bank's file: no
//! obligation stored twice, each created row's id is the one the API gave,
//! the body stored is the body in `--payloads`, and the requests the fake
//! counted are the attempts the results file reports.

mod common;

use common::{
    files_containing, read_jsonl, read_results, wait_until, FakeServer, ResultRow, Run, Running,
    Workdir,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wolkvox_import::fake_crm::FakeCrmOptions;

const TOKEN: &str = "test-token-1";

const HEADER: &str = "ID Registro,Nro Obligacion,Producto,Saldo Total,Tipo Cartera,Valor Ultimo Pago,Fecha Ultimo Pago,Fecha Vencimiento,Dias Mora,Ciudad,Telefono";

/// Every API field mapped; Ciudad and Telefono go to `form`.
const MAPPING: &str = r#"
[source]
date_formats = ["%d/%m/%Y"]

[request]
operation = "cobranza"

[fields]
wolkvox_id = "ID Registro"
id = "Nro Obligacion"
name = "Producto"
total_balance = { column = "Saldo Total", type = "number" }
portfolio_type = "Tipo Cartera"
last_pay = { column = "Valor Ultimo Pago", type = "number", default = "0" }
last_pay_date = { column = "Fecha Ultimo Pago", type = "date" }
expiring_date = { column = "Fecha Vencimiento", type = "date" }
days_delay = { column = "Dias Mora", type = "integer" }
"#;

/// A portfolio of `rows` records (spreadsheet rows 2..=rows+1). The records
/// numbered in `bad_balance` (1-based) have a balance that is not a number,
/// so local validation refuses them.
fn portfolio(rows: usize, bad_balance: &[usize]) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    for i in 1..=rows {
        let balance = if bad_balance.contains(&i) {
            "abc".to_string()
        } else {
            format!("{}.50", 1000 + i * 37)
        };
        out.push_str(&format!(
            "REC-{},OB-{i:05},Tarjeta {i},{balance},Consumo,{},05/03/2024,{:02}/12/2025,{},Bogotá,300{i:07}\n",
            i % 7,
            i * 10,
            1 + i % 28,
            i % 120,
        ));
    }
    out
}

/// Options for a fake that accepts `TOKEN`.
fn fake_opts() -> FakeCrmOptions {
    FakeCrmOptions {
        token: TOKEN.into(),
        ..Default::default()
    }
}

/// A Workdir holding `in.csv` and `map.toml`.
fn workdir(csv: &str, mapping: &str) -> Workdir {
    let wd = Workdir::new();
    wd.write("in.csv", csv);
    wd.write("map.toml", mapping);
    wd
}

/// `import in.csv` against `fake` with every output named, plus `extra`.
fn import_cmd(wd: &Workdir, fake: &FakeServer, extra: &[&str]) -> Command {
    let base = fake.base_url();
    let mut args = vec![
        "import",
        "in.csv",
        "--mapping",
        "map.toml",
        "--server",
        &base,
        "--output",
        "results.csv",
        "--payloads",
        "payloads.jsonl",
        "--rejects",
        "rejects.csv",
    ];
    args.extend_from_slice(extra);
    let mut cmd = wd.command(&args);
    cmd.env("WOLKVOX_TOKEN", TOKEN);
    cmd
}

/// Runs the command to its end, timing it.
fn run_timed(mut cmd: Command) -> (Run, Duration) {
    let started = Instant::now();
    let out = cmd.output().expect("run binary");
    (Run::from(out), started.elapsed())
}

fn import(wd: &Workdir, fake: &FakeServer, extra: &[&str]) -> Run {
    run_timed(import_cmd(wd, fake, extra)).0
}

fn count(results: &[ResultRow], status: &str) -> usize {
    results.iter().filter(|r| r["status"] == status).count()
}

fn attempts(r: &ResultRow) -> u64 {
    r["attempts"].parse().expect("attempts is a number")
}

/// `row` → body, from a payloads file, which has one line per row sent
/// however many attempts it took.
fn payload_bodies(wd: &Workdir) -> HashMap<u64, Value> {
    let mut bodies = HashMap::new();
    for p in read_jsonl(&wd.path("payloads.jsonl")) {
        let row = p["row"].as_u64().expect("row");
        assert!(
            bodies.insert(row, p["body"].clone()).is_none(),
            "row {row} is in --payloads twice"
        );
    }
    bodies
}

/// The checks every run must pass, whatever was injected:
/// - the results file has one line per data row (`rows`), sorted by row;
/// - no obligation is stored twice;
/// - every created row is in the ledger exactly once, with the id the
///   results file reports and the very body `--payloads` shows;
/// - every stored obligation belongs to a row that is `created` or (when
///   `uncertain_ok`) `uncertain`: nothing was stored behind the user's back;
/// - the fake counted exactly the requests the results file reports, plus
///   the token-quota checks (`tokenInformation`, not a row's request).
///
/// Returns the number of created rows.
fn check_consistency(wd: &Workdir, fake: &FakeServer, rows: usize, expect: Expect) -> usize {
    let Expect {
        uncertain_ok,
        token_checks,
    } = expect;
    let results = read_results(&wd.path("results.csv"));
    let numbers: Vec<u64> = results.iter().map(|r| r["row"].parse().unwrap()).collect();
    let expected: Vec<u64> = (2..=rows as u64 + 1).collect();
    assert_eq!(numbers, expected, "one line per data row, sorted");

    let ledger = fake.ledger();
    let mut stored: HashMap<(String, String), &Value> = HashMap::new();
    for entry in &ledger {
        assert_eq!(
            entry["method"], "POST",
            "only inserts were asked for: {entry}"
        );
        let key = (
            entry["wolkvox_id"].as_str().unwrap().to_string(),
            entry["obligation"].as_str().unwrap().to_string(),
        );
        assert!(
            stored.insert(key.clone(), entry).is_none(),
            "obligation {key:?} stored twice"
        );
    }

    let payloads = payload_bodies(wd);
    let mut created = 0;
    let mut accounted = 0;
    for r in &results {
        let key = (r["wolkvox_id"].clone(), r["obligation_id"].clone());
        let row: u64 = r["row"].parse().unwrap();
        match r["status"].as_str() {
            "created" => {
                created += 1;
                accounted += 1;
                let entry = stored
                    .get(&key)
                    .unwrap_or_else(|| panic!("row {row} is created but not in the ledger: {r:?}"));
                assert_eq!(
                    entry["obligation_wolkvox_id"].as_str().unwrap(),
                    r["obligation_wolkvox_id"],
                    "row {row}: the id in the results is not the one the API gave"
                );
                let body = payloads
                    .get(&row)
                    .unwrap_or_else(|| panic!("row {row} was sent but is not in --payloads"));
                assert_eq!(
                    &entry["body"], body,
                    "row {row}: stored body differs from --payloads"
                );
                assert!(r["error"].is_empty(), "row {row}: {r:?}");
            }
            "uncertain" if uncertain_ok => {
                accounted += usize::from(stored.contains_key(&key));
                assert!(
                    !r["error"].is_empty(),
                    "row {row}: uncertain without a reason"
                );
            }
            "uncertain" => panic!("row {row} ended uncertain: {r:?}"),
            status => {
                assert!(
                    !stored.contains_key(&key),
                    "row {row} is {status} but the CRM stored it: {r:?}"
                );
                if status == "invalid" {
                    assert_eq!(attempts(r), 0, "row {row}: an invalid row was sent");
                    assert!(
                        !payloads.contains_key(&row),
                        "row {row}: invalid row in --payloads"
                    );
                }
            }
        }
    }
    assert_eq!(
        accounted,
        ledger.len(),
        "the ledger holds obligations no row accounts for"
    );

    let total_attempts: u64 = results.iter().map(attempts).sum();
    assert_eq!(
        fake.stats().requests,
        total_attempts + token_checks,
        "the fake counted other requests than the results report"
    );
    created
}

/// What a run may legitimately show besides created rows.
#[derive(Debug, Clone, Copy)]
struct Expect {
    /// Rows may end `uncertain` (and be stored or not).
    uncertain_ok: bool,
    /// `tokenInformation` requests made before sending: 1 by default, 0 with
    /// `--no-preflight`.
    token_checks: u64,
}

/// A run with the default quota check and no row in doubt.
const PLAIN: Expect = Expect {
    uncertain_ok: false,
    token_checks: 1,
};
/// As `PLAIN`, with `--no-preflight`.
const NO_PREFLIGHT: Expect = Expect {
    uncertain_ok: false,
    token_checks: 0,
};

/// Requests per created obligation, printed for the report (`--nocapture`).
fn report_cost(label: &str, fake: &FakeServer, created: usize) {
    let s = fake.stats();
    let per = s.requests as f64 / created.max(1) as f64;
    eprintln!(
        "[{label}] {} requests ({} inserts, {} queries, {} faults, {} drops) for {created} created: {per:.3} requests per created obligation",
        s.requests, s.inserts, s.queries, s.faults, s.drops
    );
}

// ---------------------------------------------------------------------------
// A clean run

#[test]
fn every_valid_row_is_stored_once_with_its_payload_and_invalid_rows_cost_nothing() {
    let bad = [4, 17, 60];
    let wd = workdir(&portfolio(120, &bad), MAPPING);
    let fake = FakeServer::start(fake_opts());
    let run = import(&wd, &fake, &[]);
    assert_eq!(run.code, 1, "invalid rows mean exit 1: {run:?}");

    let created = check_consistency(&wd, &fake, 120, PLAIN);
    assert_eq!(created, 117);
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(count(&results, "invalid"), 3);
    for r in &results {
        if r["status"] == "invalid" {
            assert!(
                r["error"].contains("Saldo Total"),
                "names the column: {r:?}"
            );
        } else {
            assert_eq!(attempts(r), 1, "{r:?}");
            assert_eq!(r["http_status"], "200");
            assert_eq!(r["api_code"], "200");
            assert!(r["obligation_wolkvox_id"].ends_with("cb"), "{r:?}");
        }
    }
    let stats = fake.stats();
    assert_eq!(
        stats.requests,
        117 + 1,
        "one request per valid row (plus the quota check), none for invalid ones"
    );
    assert_eq!(stats.inserts, 117);
    assert_eq!(stats.queries, 0);
    assert_eq!(fake.ledger().len(), 117);
    assert_eq!(payload_bodies(&wd).len(), 117);

    // The body on the wire is the mapping's: spot-check one row end to end.
    let row2 = fake
        .ledger()
        .into_iter()
        .find(|e| e["obligation"] == "OB-00001")
        .unwrap();
    assert_eq!(
        row2["body"],
        serde_json::json!({
            "operation": "cobranza",
            "wolkvox_id": "REC-1",
            "fields": {
                "id": "OB-00001",
                "name": "Tarjeta 1",
                "total_balance": "1037.5",
                "portfolio_type": "Consumo",
                "last_pay": "10",
                "last_pay_date": "05-03-2024",
                "expiring_date": "02-12-2025",
                "days_delay": "1",
                "form": [
                    {"name": "Ciudad", "value": "Bogotá"},
                    {"name": "Telefono", "value": "3000000001"}
                ]
            }
        })
    );

    // The rejects file holds exactly the invalid rows, re-importable.
    let rejects = std::fs::read_to_string(wd.path("rejects.csv")).unwrap();
    let mut lines = rejects.lines();
    assert_eq!(
        lines.next().unwrap().trim_start_matches('\u{feff}'),
        format!("{HEADER},error")
    );
    let ids: Vec<&str> = lines.map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(ids, ["OB-00004", "OB-00017", "OB-00060"]);
    report_cost("clean", &fake, created);
}

#[test]
fn a_clean_file_exits_0_and_never_has_more_than_two_requests_in_flight() {
    let wd = workdir(&portfolio(60, &[]), MAPPING);
    // The fake allows the real API's 2 and counts any third as it arrives.
    let fake = FakeServer::start(FakeCrmOptions {
        latency: Duration::from_millis(20),
        ..fake_opts()
    });
    let run = import(&wd, &fake, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(check_consistency(&wd, &fake, 60, PLAIN), 60);
    let stats = fake.stats();
    assert_eq!(
        stats.max_in_flight, 2,
        "both slots used, never a third: {stats:?}"
    );
    assert_eq!(stats.rejected_busy, 0, "{stats:?}");
    assert_eq!(stats.requests, 60 + 1, "one a row, plus the quota check");

    // Without the quota check, exactly one request a row.
    let wd = workdir(&portfolio(60, &[]), MAPPING);
    let fake = FakeServer::start(fake_opts());
    let run = import(&wd, &fake, &["--no-preflight"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(check_consistency(&wd, &fake, 60, NO_PREFLIGHT), 60);
    assert_eq!(fake.stats().requests, 60);
}

#[test]
fn concurrency_option_raises_requests_in_flight_and_is_still_a_bound() {
    let wd = workdir(&portfolio(60, &[]), MAPPING);
    let fake = FakeServer::start(FakeCrmOptions {
        latency: Duration::from_millis(20),
        max_in_flight: 4,
        ..fake_opts()
    });
    let run = import(&wd, &fake, &["--concurrency", "4"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("above the API's limit"),
        "warns: {run:?}"
    );
    assert_eq!(check_consistency(&wd, &fake, 60, PLAIN), 60);
    let stats = fake.stats();
    assert!(
        stats.max_in_flight > 2 && stats.max_in_flight <= 4,
        "expected 3 or 4 in flight: {stats:?}"
    );
    assert_eq!(stats.rejected_busy, 0, "{stats:?}");
}

#[test]
fn rate_limit_spaces_the_requests() {
    let wd = workdir(&portfolio(60, &[]), MAPPING);
    let fake = FakeServer::start(fake_opts());
    let (run, elapsed) = run_timed(import_cmd(&wd, &fake, &["--rate", "30/s"]));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(check_consistency(&wd, &fake, 60, PLAIN), 60);
    // 60 evenly spaced requests at 30/s: 59 gaps of 33 ms.
    assert!(
        elapsed >= Duration::from_millis(1900),
        "took only {elapsed:?}"
    );
    // And the limit costs nothing but the spacing: one request per row, no
    // retry, no look-up (the consistency check matched the fake's count of
    // requests to the attempts).
    let results = read_results(&wd.path("results.csv"));
    assert!(results.iter().all(|r| attempts(r) == 1), "{results:?}");
    assert_eq!(fake.stats().queries, 0);
}

// ---------------------------------------------------------------------------
// Answers that say "try again later"

#[test]
fn overload_answers_are_retried_until_every_row_is_created_once() {
    let rows = 40;
    let wd = workdir(&portfolio(rows, &[]), MAPPING);
    let fake = FakeServer::start(FakeCrmOptions {
        fail_rate: 0.15,
        throttle_rate: 0.05,
        busy_rate: 0.1,
        seed: 11,
        ..fake_opts()
    });
    let run = import(&wd, &fake, &["--max-retries", "10"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(check_consistency(&wd, &fake, rows, PLAIN), rows);
    let results = read_results(&wd.path("results.csv"));
    let retried = results.iter().filter(|r| attempts(r) > 1).count();
    assert!(
        retried > 0,
        "no row needed a retry: the faults did not fire"
    );
    let stats = fake.stats();
    assert!(stats.faults > 0);
    assert_eq!(stats.queries, 0, "a refused request needs no lookup");
    assert_eq!(stats.inserts as usize, rows);
    assert_eq!(
        stats.rejected_busy, 0,
        "the injected 403s are not real overflow"
    );
    report_cost("503/429/403-busy", &fake, rows);
}

#[test]
fn retry_after_is_honoured_and_retries_are_bounded() {
    let wd = workdir(&portfolio(1, &[]), MAPPING);
    let fake = FakeServer::start(FakeCrmOptions {
        throttle_rate: 1.0,
        ..fake_opts()
    });
    let (run, elapsed) = run_timed(import_cmd(&wd, &fake, &["--max-retries", "1"]));
    assert_eq!(run.code, 1, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(results[0]["status"], "failed", "{results:?}");
    assert_eq!(attempts(&results[0]), 2);
    assert_eq!(results[0]["http_status"], "429");
    assert!(
        results[0]["error"].contains("gave up after 2 attempts"),
        "{results:?}"
    );
    // The one wait between the two attempts is the server's Retry-After: 1.
    assert!(
        elapsed >= Duration::from_secs(1),
        "ignored Retry-After: {elapsed:?}"
    );
    assert_eq!(
        fake.stats().requests,
        2 + 1,
        "two attempts and the quota check"
    );
    assert!(fake.ledger().is_empty());
}

#[test]
fn a_server_that_keeps_failing_trips_the_breaker() {
    let rows = 12;
    let wd = workdir(&portfolio(rows, &[]), MAPPING);
    let fake = FakeServer::start(FakeCrmOptions {
        fail_rate: 1.0,
        ..fake_opts()
    });
    let run = import(&wd, &fake, &["--max-retries", "0", "--breaker", "3"]);
    assert_eq!(run.code, 3, "{run:?}");
    check_consistency(&wd, &fake, rows, PLAIN);
    let results = read_results(&wd.path("results.csv"));
    let failed = count(&results, "failed");
    assert!(
        (3..=5).contains(&failed),
        "3 failed rows (plus what was in flight) stop the run: {results:?}"
    );
    assert_eq!(count(&results, "not_sent"), rows - failed, "{results:?}");
    assert!(run.stderr.contains("stopped"), "{run:?}");
}

// ---------------------------------------------------------------------------
// Answers that refuse the row or the run

/// A stand-in API whose answers a test picks per obligation id, for the
/// answers the fake cannot be made to give: the mapping's own checks stop
/// every body the fake would refuse before it is sent.
struct ScriptedApi {
    /// Every insert body received, in order.
    inserts: Arc<Mutex<Vec<Value>>>,
    base_url: String,
    // Declared last: dropped after the fields above, it stops the server.
    _runtime: tokio::runtime::Runtime,
}

/// An answer: HTTP status and JSON body.
type Scripted = (u16, Value);

impl ScriptedApi {
    /// Inserts whose `fields.id` is in `answers` get that answer; the others
    /// are created. Token information reports no quota problem.
    fn start(answers: HashMap<String, Scripted>) -> ScriptedApi {
        use axum::http::StatusCode;
        use axum::response::IntoResponse;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let inserts: Arc<Mutex<Vec<Value>>> = Arc::default();
        let seen = inserts.clone();
        let answers = Arc::new(answers);
        let handler = move |uri: axum::http::Uri, body: axum::body::Bytes| {
            let seen = seen.clone();
            let answers = answers.clone();
            async move {
                let (status, body) = if uri.path().ends_with("tokenInformation.php") {
                    (
                        200,
                        serde_json::json!({"code": 200, "error": "null", "msg": "Token information",
                            "data": {"token_limit": 4800, "token_use_today": 0, "hours_to_restart_count": 24}}),
                    )
                } else if uri.path().ends_with("insertObligation.php") {
                    let body: Value = serde_json::from_slice(&body).unwrap();
                    let id = body["fields"]["id"].as_str().unwrap().to_string();
                    let mut seen = seen.lock().unwrap();
                    seen.push(body);
                    answers.get(&id).cloned().unwrap_or_else(|| {
                        (
                            200,
                            serde_json::json!({"code": 200, "error": "null", "msg": "Succesfully create record",
                                "data": {"wolkvox_id": format!("{:x}cb", 0x1000 + seen.len())}}),
                        )
                    })
                } else {
                    (404, serde_json::json!({"code": 404, "error": "NOT FOUND"}))
                };
                (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
            }
        };
        let router = axum::Router::new().fallback(handler);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move { axum::serve(listener, router).await });
        ScriptedApi {
            inserts,
            base_url: format!("http://{addr}/server/API/v2/"),
            _runtime: runtime,
        }
    }

    /// How many inserts of obligation `id` arrived.
    fn inserts_of(&self, id: &str) -> usize {
        let seen = self.inserts.lock().unwrap();
        seen.iter().filter(|b| b["fields"]["id"] == id).count()
    }
}

#[test]
fn api_refusals_fail_the_row_with_the_api_message_and_no_retry() {
    let rows = 20;
    let wd = workdir(&portfolio(rows, &[]), MAPPING);
    let refused = serde_json::json!({"code": 400, "error": "SOME PARAMETERS ARE REQUIRED",
        "msg": "SOME PARAMETERS ARE REQUIRED: fields.last_pay_date", "data": null});
    // The same refusal inside an HTTP 200, with the code written as a string.
    let refused_in_200 = serde_json::json!({"code": "400", "error": "SOME PARAMETERS ARE REQUIRED",
        "msg": "SOME PARAMETERS ARE REQUIRED: fields.days_delay", "data": null});
    let api = ScriptedApi::start(HashMap::from([
        ("OB-00007".to_string(), (400, refused)),
        ("OB-00009".to_string(), (200, refused_in_200)),
    ]));
    let base = api.base_url.clone();
    let mut cmd = wd.command(&[
        "import",
        "in.csv",
        "--mapping",
        "map.toml",
        "--server",
        &base,
        "--output",
        "results.csv",
        "--rejects",
        "rejects.csv",
    ]);
    cmd.env("WOLKVOX_TOKEN", TOKEN);
    let (run, _) = run_timed(cmd);
    assert_eq!(run.code, 1, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(results.len(), rows);
    for (index, id, http, message) in [
        (6, "OB-00007", "400", "fields.last_pay_date"),
        (8, "OB-00009", "200", "fields.days_delay"),
    ] {
        let r = &results[index];
        assert_eq!(r["obligation_id"], id);
        assert_eq!(r["status"], "failed", "{r:?}");
        assert!(r["error"].contains("SOME PARAMETERS ARE REQUIRED"), "{r:?}");
        assert!(r["error"].contains(message), "the API's own words: {r:?}");
        assert_eq!(attempts(r), 1, "a refusal is not retried: {r:?}");
        assert_eq!(r["http_status"], http);
        assert_eq!(r["api_code"], "400");
        assert!(r["obligation_wolkvox_id"].is_empty());
        assert_eq!(api.inserts_of(id), 1, "{id} sent again");
    }
    assert_eq!(count(&results, "created"), rows - 2);
    assert_eq!(api.inserts.lock().unwrap().len(), rows, "one insert a row");
    let mut rdr = csv::Reader::from_path(wd.path("rejects.csv")).unwrap();
    let rejected: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    // Rows are written as they finish, so in either order.
    let mut reasons: Vec<(String, String)> = rejected
        .iter()
        .map(|r| (r[1].to_string(), r[r.len() - 1].to_string()))
        .collect();
    reasons.sort();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(reasons[0].0, "OB-00007");
    assert!(reasons[0].1.contains("fields.last_pay_date"), "{reasons:?}");
    assert_eq!(reasons[1].0, "OB-00009");
}

/// Runs the 30-row file with a token the fake refuses; checks what every
/// such run must show and returns the fake's counters.
fn run_with_a_bad_token(extra: &[&str], expect: Expect) -> wolkvox_import::fake_crm::FakeCrmStats {
    let rows = 30;
    let wd = workdir(&portfolio(rows, &[]), MAPPING);
    let fake = FakeServer::start(fake_opts());
    let mut cmd = import_cmd(&wd, &fake, extra);
    cmd.env("WOLKVOX_TOKEN", "wrong");
    let (run, _) = run_timed(cmd);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("PLEASE VALIDATE TOKEN"), "{run:?}");
    check_consistency(&wd, &fake, rows, expect);
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(count(&results, "not_sent"), rows, "{results:?}");
    assert!(fake.ledger().is_empty());
    // Every row is in the rejects file, ready for another run.
    let mut rdr = csv::Reader::from_path(wd.path("rejects.csv")).unwrap();
    assert_eq!(rdr.records().count(), rows);
    let stats = fake.stats();
    assert_eq!(stats.rejected_auth, stats.requests, "{stats:?}");
    stats
}

#[test]
fn a_bad_token_stops_the_run_at_the_quota_check() {
    let stats = run_with_a_bad_token(&[], PLAIN);
    assert_eq!(stats.requests, 1, "only the quota check: {stats:?}");
}

#[test]
fn a_bad_token_stops_the_run_after_at_most_concurrency_requests() {
    let stats = run_with_a_bad_token(&["--no-preflight"], NO_PREFLIGHT);
    assert!(
        (1..=2).contains(&stats.requests),
        "at most --concurrency (2): {stats:?}"
    );
}

#[test]
fn a_used_up_quota_stops_the_run_cleanly() {
    let rows = 30;
    let wd = workdir(&portfolio(rows, &[]), MAPPING);
    let fake = FakeServer::start(FakeCrmOptions {
        daily_limit: Some(5),
        ..fake_opts()
    });
    let run = import(&wd, &fake, &["--no-preflight"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("TOKEN LIMIT EXCEEDED"), "{run:?}");
    assert_eq!(check_consistency(&wd, &fake, rows, NO_PREFLIGHT), 5);
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(count(&results, "not_sent"), rows - 5, "{results:?}");
    let stats = fake.stats();
    assert_eq!(stats.inserts, 5);
    assert!(
        (1..=2).contains(&stats.rejected_quota),
        "at most the requests in flight hit the limit: {stats:?}"
    );
    assert_eq!(fake.ledger().len(), 5);
}

#[test]
fn the_quota_check_stops_the_run_before_the_limit_is_hit() {
    let rows = 30;
    let wd = workdir(&portfolio(rows, &[]), MAPPING);
    let fake = FakeServer::start(FakeCrmOptions {
        daily_limit: Some(5),
        ..fake_opts()
    });
    let run = import(&wd, &fake, &[]);
    assert_eq!(run.code, 3, "{run:?}");
    // The check costs one of the 5 requests; the other 4 create 4 rows.
    assert_eq!(check_consistency(&wd, &fake, rows, PLAIN), 4);
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(count(&results, "not_sent"), rows - 4, "{results:?}");
    let stats = fake.stats();
    assert_eq!(
        stats.rejected_quota, 0,
        "never ran into the limit: {stats:?}"
    );
    assert!(
        run.stderr.contains("--resume"),
        "says how to carry on: {run:?}"
    );
}

// ---------------------------------------------------------------------------
// Answers that leave the outcome in doubt

#[test]
fn drops_after_commit_are_reconciled_never_inserted_twice() {
    let rows = 60;
    let wd = workdir(&portfolio(rows, &[]), MAPPING);
    let fake = FakeServer::start(FakeCrmOptions {
        drop_after_commit_rate: 0.3,
        seed: 5,
        ..fake_opts()
    });
    let run = import(&wd, &fake, &[]);
    let created = check_consistency(
        &wd,
        &fake,
        rows,
        Expect {
            uncertain_ok: true,
            ..PLAIN
        },
    );
    let results = read_results(&wd.path("results.csv"));
    let uncertain = count(&results, "uncertain");
    assert_eq!(
        created + uncertain,
        rows,
        "only created or uncertain: {results:?}"
    );
    assert_eq!(run.code, if uncertain == 0 { 0 } else { 1 }, "{run:?}");
    let stats = fake.stats();
    assert!(stats.drops > 0 && stats.queries > 0, "{stats:?}");
    assert!(results.iter().any(|r| attempts(r) > 1));
    eprintln!("[drop-after-commit] {created} created, {uncertain} uncertain");
    report_cost("drop-after-commit 0.3", &fake, created);
}

#[test]
fn when_no_answer_ever_comes_back_rows_are_uncertain_and_never_resent() {
    // Every request is carried out and its connection dropped: inserts are
    // stored, lookups find them but cannot say so.
    let rows = 4;
    let wd = workdir(&portfolio(rows, &[]), MAPPING);
    let fake = FakeServer::start(FakeCrmOptions {
        drop_after_commit_rate: 1.0,
        ..fake_opts()
    });
    let run = import(&wd, &fake, &["--max-retries", "1"]);
    assert_eq!(run.code, 1, "{run:?}");
    let uncertain = Expect {
        uncertain_ok: true,
        ..PLAIN
    };
    assert_eq!(check_consistency(&wd, &fake, rows, uncertain), 0);
    let stats = fake.stats();
    assert_eq!(
        stats.inserts as usize, rows,
        "an insert in doubt was sent again: {stats:?}"
    );
    assert_eq!(fake.ledger().len(), rows);
    let results = read_results(&wd.path("results.csv"));
    for r in &results {
        assert_eq!(r["status"], "uncertain", "{r:?}");
        // One insert, then the first lookup and its one retry.
        assert_eq!(attempts(r), 3, "{r:?}");
        assert!(
            r["error"].contains(&r["obligation_id"]),
            "names the obligation: {r:?}"
        );
        assert!(r["error"].contains("--resume"), "says what to do: {r:?}");
    }
    // Words a person can act on, not a Rust value.
    for r in &results {
        assert!(
            !r["error"].contains("InDoubt") && !r["error"].contains("{ message"),
            "debug text in the error column: {}",
            r["error"]
        );
    }
}

#[test]
fn answers_past_the_timeout_are_found_by_a_lookup_not_sent_again() {
    let rows = 30;
    let wd = workdir(&portfolio(rows, &[]), MAPPING);
    // A stuck answer holds its in-flight slot for 2 s; a roomier limit keeps
    // this test about timeouts, not about the simultaneous-requests 403.
    let fake = FakeServer::start(FakeCrmOptions {
        slow_rate: 0.2,
        slow_delay: Duration::from_secs(2),
        max_in_flight: 16,
        seed: 3,
        ..fake_opts()
    });
    let run = import(&wd, &fake, &["--timeout", "300ms", "--max-retries", "8"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(check_consistency(&wd, &fake, rows, PLAIN), rows);
    let stats = fake.stats();
    assert_eq!(
        stats.inserts as usize, rows,
        "a timed-out insert was sent again: {stats:?}"
    );
    assert!(stats.queries > 0, "{stats:?}");
    let results = read_results(&wd.path("results.csv"));
    assert!(results.iter().any(|r| attempts(r) > 1));
    report_cost("slow past --timeout", &fake, rows);
}

#[test]
fn unreadable_answers_and_failing_codes_end_created_exactly_once() {
    let rows = 40;
    let wd = workdir(&portfolio(rows, &[]), MAPPING);
    let fake = FakeServer::start(FakeCrmOptions {
        malformed_rate: 0.1,
        html_rate: 0.1,
        failing_code_rate: 0.1,
        seed: 9,
        ..fake_opts()
    });
    let run = import(&wd, &fake, &["--max-retries", "10"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(check_consistency(&wd, &fake, rows, PLAIN), rows);
    let stats = fake.stats();
    assert_eq!(stats.inserts as usize, rows);
    assert!(stats.faults > 0);
    let results = read_results(&wd.path("results.csv"));
    assert!(results.iter().any(|r| attempts(r) > 1));
    report_cost("malformed/html/failing-code", &fake, rows);
}

// ---------------------------------------------------------------------------
// Refused before anything is read or sent

fn assert_nothing_written(wd: &Workdir) {
    for name in [
        "results.csv",
        "payloads.jsonl",
        "rejects.csv",
        "in.csv.results.csv",
    ] {
        assert!(!wd.path(name).exists(), "{name} was written");
    }
}

/// A listener that counts the connections made to it and closes them.
fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            h.fetch_add(1, Ordering::SeqCst);
            drop(conn);
        }
    });
    (url, hits)
}

#[test]
fn unsafe_or_retired_servers_are_refused() {
    let wd = workdir(&portfolio(5, &[]), MAPPING);
    // Every proxy variable points at a listener that counts connections:
    // any attempt to reach a server that is not this machine goes there.
    let (proxy, hits) = counting_listener();
    let args = |server: &'static str| {
        let mut c = wd.command(&[
            "import",
            "in.csv",
            "--mapping",
            "map.toml",
            "--server",
            server,
            "--output",
            "results.csv",
        ]);
        c.env("WOLKVOX_TOKEN", TOKEN);
        for var in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            c.env(var, &proxy);
        }
        c.env_remove("NO_PROXY").env_remove("no_proxy");
        c
    };
    let run = Run::from(args("http://example.com").output().unwrap());
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("http://"), "{run:?}");
    assert!(run.stderr.contains("https://"), "says what to use: {run:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "tried the network");
    assert_nothing_written(&wd);

    let run = Run::from(args("sv0001.crmvox.com").output().unwrap());
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("crm0001.wolkvox.com"),
        "names the replacement: {run:?}"
    );
    assert!(run.stderr.contains("retired"), "{run:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "tried the network");
    assert_nothing_written(&wd);
}

#[test]
fn a_missing_token_or_server_is_reported_before_the_input_is_read() {
    let wd = Workdir::new();
    let run = wd.run(&[
        "import",
        "missing-input.csv",
        "--mapping",
        "missing-map.toml",
        "--server",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("WOLKVOX_TOKEN"), "{run:?}");
    assert!(run.stderr.contains("--token-file"), "{run:?}");
    assert!(
        !run.stderr.contains("missing-input.csv"),
        "about the token, not the file: {run:?}"
    );

    let mut cmd = wd.command(&[
        "import",
        "missing-input.csv",
        "--mapping",
        "missing-map.toml",
    ]);
    cmd.env("WOLKVOX_TOKEN", TOKEN);
    let (run, _) = run_timed(cmd);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--server"), "{run:?}");
    assert!(run.stderr.contains("WOLKVOX_SERVER"), "{run:?}");
    assert!(
        !run.stderr.contains("missing-input.csv"),
        "about the server, not the file: {run:?}"
    );

    // A token file that is not there is named.
    let run = wd.run(&[
        "import",
        "missing-input.csv",
        "--mapping",
        "missing-map.toml",
        "--server",
        "http://127.0.0.1:9",
        "--token-file",
        "no-such-token",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no-such-token"), "{run:?}");
    assert!(
        std::fs::read_dir(wd.root()).unwrap().next().is_none(),
        "nothing written"
    );
}

// ---------------------------------------------------------------------------
// Secrets and logs

const SECRET: &str = "tok-ZZ-7f3a9c-SECRET";

/// Faults on every error path that could be tempted to print a request.
fn noisy_fake(token: &str) -> FakeServer {
    FakeServer::start(FakeCrmOptions {
        token: token.into(),
        malformed_rate: 0.05,
        html_rate: 0.05,
        fail_rate: 0.05,
        failing_code_rate: 0.05,
        drop_after_commit_rate: 0.1,
        seed: 21,
        ..Default::default()
    })
}

fn assert_secret_nowhere(wd: &Workdir, runs: &[Run], secret: &str) {
    for run in runs {
        assert!(!run.stdout.contains(secret), "token on stdout");
        assert!(!run.stderr.contains(secret), "token on stderr");
    }
    let leaked = files_containing(wd.root(), secret);
    assert!(leaked.is_empty(), "token written to {leaked:?}");
}

#[test]
fn the_token_is_never_printed_or_written() {
    // Most verbose, both formats, with faults on every error path; then a
    // token the fake refuses. A fresh folder (and fake) for each run.
    let runs: [(&[&str], Option<&str>, &str); 4] = [
        (&["-vv", "--log-format", "text"], None, SECRET),
        (&["-vv", "--log-format", "json"], Some("trace"), SECRET),
        (&["-vv", "--log-format", "text"], Some("trace"), SECRET),
        (&["-vv", "--no-preflight"], Some("trace"), "the-right-token"),
    ];
    for (flags, rust_log, fake_token) in runs {
        let wd = workdir(&portfolio(30, &[9]), MAPPING);
        let fake = noisy_fake(fake_token);
        let mut args = flags.to_vec();
        args.extend(["--max-retries", "10"]);
        let mut cmd = import_cmd(&wd, &fake, &args);
        cmd.env("WOLKVOX_TOKEN", SECRET);
        if let Some(filter) = rust_log {
            cmd.env("RUST_LOG", filter);
        }
        let (run, _) = run_timed(cmd);
        if fake_token == SECRET {
            assert_eq!(run.code, 1, "the invalid row: {run:?}");
            assert!(fake.stats().faults > 0, "error paths did not run");
        } else {
            assert_eq!(run.code, 3, "{run:?}");
            assert!(fake.stats().rejected_auth > 0);
        }
        assert!(!run.stderr.is_empty());
        if flags.contains(&"json") {
            json_lines(&run);
        }
        assert_secret_nowhere(&wd, &[run], SECRET);
    }
}

#[test]
fn a_token_file_with_a_trailing_newline_works() {
    let wd = workdir(&portfolio(20, &[]), MAPPING);
    let secret = "tok-file-44e1-SECRET";
    let fake = FakeServer::start(FakeCrmOptions {
        token: secret.into(),
        ..Default::default()
    });
    let token_dir = tempfile::tempdir().unwrap();
    let token_file = token_dir.path().join("token");
    std::fs::write(&token_file, format!("{secret}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let token_path = token_file.to_str().unwrap().to_string();
    // The server from the environment this time.
    let mut cmd = wd.command(&[
        "import",
        "in.csv",
        "--mapping",
        "map.toml",
        "--output",
        "results.csv",
        "--payloads",
        "payloads.jsonl",
        "--token-file",
        &token_path,
    ]);
    cmd.env("WOLKVOX_SERVER", fake.base_url());
    let (run, _) = run_timed(cmd);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        !run.stderr.contains("chmod"),
        "a private file draws no warning: {run:?}"
    );
    assert_eq!(check_consistency(&wd, &fake, 20, PLAIN), 20);
    assert_secret_nowhere(&wd, &[run], secret);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let wd = workdir(&portfolio(3, &[]), MAPPING);
        let fake = FakeServer::start(FakeCrmOptions {
            token: secret.into(),
            ..Default::default()
        });
        let run = wd.run(&[
            "import",
            "in.csv",
            "--mapping",
            "map.toml",
            "--server",
            &fake.base_url(),
            "--token-file",
            &token_path,
        ]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stderr.contains("chmod 600"),
            "a readable token file is warned about: {run:?}"
        );
        assert_eq!(fake.ledger().len(), 3);
    }
}

/// Every stderr line as a JSON object.
fn json_lines(run: &Run) -> Vec<serde_json::Map<String, Value>> {
    run.stderr
        .lines()
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(o)) => o,
            _ => panic!("stderr line is not a JSON object: {l:?}\n{run:?}"),
        })
        .collect()
}

#[test]
fn json_logs_are_one_object_a_line_ending_with_the_summary() {
    let rows = 30;
    let wd = workdir(&portfolio(rows, &[3, 12]), MAPPING);
    let fake = FakeServer::start(FakeCrmOptions {
        fail_rate: 0.1,
        malformed_rate: 0.1,
        seed: 2,
        ..fake_opts()
    });
    let run = import(
        &wd,
        &fake,
        &["--log-format", "json", "-v", "--max-retries", "10"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    check_consistency(&wd, &fake, rows, PLAIN);
    let lines = json_lines(&run);
    assert!(lines.len() > 1, "{run:?}");
    let summary = lines.last().unwrap();
    assert_eq!(
        summary.get("event"),
        Some(&Value::from("summary")),
        "{summary:?}"
    );
    assert_eq!(summary["rows"], Value::from(rows as u64));
    assert_eq!(summary["exit_code"], Value::from(1));
    assert_eq!(summary["requests"], Value::from(fake.stats().requests));
    // One field per status, so log tools can filter on them.
    assert_eq!(summary["created"], Value::from(28), "{summary:?}");
    assert_eq!(summary["invalid"], Value::from(2), "{summary:?}");
    assert_eq!(summary["not_sent"], Value::from(0), "{summary:?}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.get("event") == Some(&Value::from("summary")))
            .count(),
        1
    );
}

#[test]
fn json_logs_hold_for_a_refused_run_too() {
    let wd = Workdir::new();
    let run = wd.run(&[
        "import",
        "missing-input.csv",
        "--mapping",
        "missing-map.toml",
        "--server",
        "http://127.0.0.1:9",
        "--log-format",
        "json",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    let lines = json_lines(&run);
    assert!(
        lines.iter().any(|l| l
            .values()
            .any(|v| v.as_str().is_some_and(|s| s.contains("WOLKVOX_TOKEN")))),
        "{run:?}"
    );
}

// ---------------------------------------------------------------------------
// Ctrl-C

/// Starts the import, waits until `ready` holds for the fake (so the
/// binary is surely past its start-up and has its signal handler), sends
/// SIGINT and waits for the end: an import that does not end on it within
/// `HANG_GUARD` is killed and fails the test.
#[cfg(unix)]
fn interrupt_when(
    cmd: Command,
    fake: &FakeServer,
    ready: impl Fn(&wolkvox_import::fake_crm::FakeCrmStats) -> bool,
) -> Run {
    let mut child = Running::spawn(cmd);
    wait_until("the import to get going", || {
        assert!(child.is_running(), "ended early: {}", child.stderr());
        ready(&fake.stats())
    });
    child.signal(libc::SIGINT);
    child.wait()
}

#[cfg(unix)]
#[test]
fn ctrl_c_drains_what_is_in_flight_and_accounts_for_every_row() {
    let rows = 200;
    let wd = workdir(&portfolio(rows, &[]), MAPPING);
    let fake = FakeServer::start(FakeCrmOptions {
        latency: Duration::from_millis(50),
        ..fake_opts()
    });
    // About 1 s into sending (2 rows per 50 ms).
    let run = interrupt_when(import_cmd(&wd, &fake, &[]), &fake, |s| s.inserts >= 40);
    assert_eq!(run.code, 130, "{run:?}");
    assert!(run.stderr.contains("interrupted"), "{run:?}");

    let created = check_consistency(&wd, &fake, rows, PLAIN);
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(
        created + count(&results, "not_sent"),
        rows,
        "only created or not_sent"
    );
    assert!(
        created >= 40 && created < rows,
        "interrupted mid-way: {created} created"
    );
    // Nothing stored for a row reported not_sent (checked above), so a
    // resume cannot duplicate anything.
    assert_eq!(fake.ledger().len(), created);
}

/// The second request may only leave an hour after the first: an import
/// that waited out the limit after Ctrl-C would never end (`interrupt_when`
/// kills it after a minute and fails), one that does not ends having sent
/// the one request.
#[cfg(unix)]
#[test]
fn ctrl_c_does_not_wait_out_the_rate_limit() {
    let rows = 10;
    let wd = workdir(&portfolio(rows, &[]), MAPPING);
    let fake = FakeServer::start(fake_opts());
    let cmd = import_cmd(&wd, &fake, &["--rate", "1/hour"]);
    let run = interrupt_when(cmd, &fake, |s| s.inserts >= 1);
    assert_eq!(run.code, 130, "{run:?}");
    assert_eq!(check_consistency(&wd, &fake, rows, PLAIN), 1);
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(count(&results, "not_sent"), rows - 1, "{results:?}");
}

#[test]
fn results_are_data_not_timing() {
    // Two runs of the same file against fresh fakes give the same results,
    // apart from the ids the fake hands out in arrival order.
    let mut seen: Vec<Vec<BTreeMap<String, String>>> = Vec::new();
    for _ in 0..2 {
        let wd = workdir(&portfolio(25, &[5]), MAPPING);
        let fake = FakeServer::start(fake_opts());
        let run = import(&wd, &fake, &[]);
        assert_eq!(run.code, 1, "{run:?}");
        let mut results = read_results(&wd.path("results.csv"));
        for r in &mut results {
            r.remove("obligation_wolkvox_id");
        }
        seen.push(results);
    }
    assert_eq!(seen[0], seen[1]);
}

/// A server that cannot be reached at all (nothing listens on the port)
/// stops the run within seconds, every row `not_sent`, exit 3, naming the
/// host and the cause: not minutes of retries ending in exit 1.
#[test]
fn an_unreachable_server_stops_the_run_at_once_with_exit_3() {
    let rows = 40;
    let wd = workdir(&portfolio(rows, &[]), MAPPING);
    // A port nobody listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}/");
    for extra in [&[][..], &["--no-preflight"][..]] {
        let mut args = vec![
            "import",
            "in.csv",
            "--mapping",
            "map.toml",
            "--server",
            &base,
            "--output",
            "results.csv",
        ];
        args.extend_from_slice(extra);
        let mut cmd = wd.command(&args);
        cmd.env("WOLKVOX_TOKEN", TOKEN);
        let (run, took) = run_timed(cmd);
        assert_eq!(run.code, 3, "{extra:?}: {run:?}");
        assert!(
            run.stderr.contains("cannot reach the server 127.0.0.1"),
            "names the host: {}",
            run.stderr
        );
        assert!(
            run.stderr.to_lowercase().contains("refused"),
            "names the cause: {}",
            run.stderr
        );
        let results = read_results(&wd.path("results.csv"));
        assert_eq!(results.len(), rows);
        assert_eq!(count(&results, "not_sent"), rows, "{extra:?}: {results:?}");
        // Two tries at most per worker, not retries of every row (minutes).
        let tries: u64 = results.iter().map(attempts).sum();
        assert!(tries <= 4, "{extra:?}: {tries} attempts in {took:?}");
    }
}

/// An empty file (no header at all) is treated as a header-only one: no
/// request, a warning that says the columns could not be checked, and an
/// error with --expect-rows, in either language.
#[test]
fn an_empty_file_costs_no_request_and_expect_rows_refuses_it() {
    let wd = workdir("", MAPPING);
    let fake = FakeServer::start(fake_opts());
    let run = import(&wd, &fake, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(
            "in.csv is empty: it has no header row, so the mapping's columns could not be checked"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(fake.stats().requests, 0, "not even the quota check");
    assert!(read_results(&wd.path("results.csv")).is_empty());
    // Nothing to reject, and no header a rejects file could start with.
    assert!(!wd.path("rejects.csv").exists());

    let run = import(&wd, &fake, &["--expect-rows", "1", "--lang", "es"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("0 filas de datos, menos que --expect-rows 1"),
        "{}",
        run.stderr
    );
    let run = import(&wd, &fake, &["--lang", "es"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("in.csv está vacío: no tiene fila de encabezados"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.stats().requests, 0);
}

/// An empty nightly export costs no request (not even the quota check) and
/// draws a warning; with --expect-rows it is an error before anything is
/// sent, dry run or not.
#[test]
fn a_header_only_file_costs_no_request_and_expect_rows_refuses_it() {
    let wd = workdir(&portfolio(0, &[]), MAPPING);
    let fake = FakeServer::start(fake_opts());
    let run = import(&wd, &fake, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("no data rows"), "{}", run.stderr);
    assert_eq!(fake.stats().requests, 0, "not even the quota check");

    let run = import(&wd, &fake, &["--expect-rows", "1"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("0 data rows, fewer than --expect-rows 1"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.stats().requests, 0);

    wd.write("in.csv", portfolio(5, &[]));
    let dry = wd.run(&[
        "import",
        "in.csv",
        "--mapping",
        "map.toml",
        "--dry-run",
        "--expect-rows",
        "6",
    ]);
    assert_eq!(dry.code, 2, "{dry:?}");
    let run = import(&wd, &fake, &["--expect-rows", "5"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(fake.stats().inserts, 5);
}
