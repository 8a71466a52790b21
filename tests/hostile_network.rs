//! Hostile servers and bank networks: the real binary against stand-in
//! servers on 127.0.0.1 that answer in the ways a real deployment can
//! (redirects after storing, refused or loose look-ups, answers without an
//! id or with a huge one, endless bodies, errors that echo the token), a
//! private CA behind TLS, proxies, signals and closed pipes.
//!
//! In every case: no obligation is stored twice, and no row is `created`
//! unless the server stored it, with the id the server gave it.

mod common;

use common::{
    files_containing, read_results, wait_until, FakeServer, ResultRow, Run, Running, Workdir,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wolkvox_import::fake_crm::{FakeCrm, FakeCrmOptions};

const TOKEN: &str = "net-test-token-7f3a9c";

const MAPPING: &str = r#"
[request]
operation = "cobranza"
[fields]
wolkvox_id = "registro"
id = "obligacion"
total_balance = { column = "saldo", type = "number" }
"#;

/// A portfolio of `rows` obligations over two collections records, with
/// obligation ids `{prefix}{n}`.
fn portfolio(wd: &Workdir, name: &str, rows: usize, prefix: &str) {
    let mut s = String::from("registro,obligacion,saldo\n");
    for i in 1..=rows {
        s.push_str(&format!("R{},{prefix}{i},{}\n", i % 2, 1000 + i));
    }
    wd.write(name, s);
}

fn workdir(rows: usize) -> Workdir {
    let wd = Workdir::new();
    portfolio(&wd, "cartera.csv", rows, "OB-");
    wd.write("m.toml", MAPPING);
    wd
}

/// One request at a time, every file a server's text can end up in
/// (results, rejects, report) written, and the log at its most detailed:
/// the run a leak of the token is looked for in.
const LEAK_PROBE_ARGS: &[&str] = &[
    "--concurrency",
    "1",
    "--rejects",
    "rejects.csv",
    "--report",
    "report.html",
    "-vv",
];

/// `import cartera.csv` against `base`, results in results.csv.
fn import_cmd(wd: &Workdir, base: &str, extra: &[&str]) -> Command {
    let mut args = vec![
        "import",
        "cartera.csv",
        "--mapping",
        "m.toml",
        "--server",
        base,
        "--output",
        "results.csv",
    ];
    args.extend_from_slice(extra);
    let mut cmd = wd.command(&args);
    cmd.env("WOLKVOX_TOKEN", TOKEN);
    cmd
}

fn import(wd: &Workdir, base: &str, extra: &[&str]) -> Run {
    let run = Run::from(import_cmd(wd, base, extra).output().unwrap());
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    run
}

/// `import` as with `import`, under the given token instead of [`TOKEN`].
fn import_with_token(wd: &Workdir, base: &str, extra: &[&str], token: &str) -> Run {
    let run = Run::from(
        import_cmd(wd, base, extra)
            .env("WOLKVOX_TOKEN", token)
            .output()
            .unwrap(),
    );
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    run
}

/// Fails the test if `needle` is in the run's stdout or stderr or in any
/// file under the test's folder.
fn assert_nowhere(wd: &Workdir, run: &Run, needle: &str) {
    assert!(!run.stdout.contains(needle), "stdout holds {needle:?}");
    assert!(
        !run.stderr.contains(needle),
        "stderr holds {needle:?}: {}",
        run.stderr
    );
    let leaked = files_containing(wd.root(), needle);
    assert!(leaked.is_empty(), "{needle:?} written to {leaked:?}");
}

fn statuses(wd: &Workdir) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in read_results(&wd.path("results.csv")) {
        *m.entry(r["status"].clone()).or_default() += 1;
    }
    m
}

// ---------------------------------------------------------------------------
// A stand-in CRM on raw TCP: full control of every byte of the answer.

/// A request as the stand-in read it.
struct Req {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn is_insert(&self) -> bool {
        self.method == "POST" && self.path.ends_with("/collections/insertObligation.php")
    }

    fn is_query(&self) -> bool {
        self.path.ends_with("/collections/queryObligation.php")
    }

    /// The token the request carried, as a server would echo it.
    fn token(&self) -> String {
        self.headers
            .iter()
            .find(|(k, _)| k == "wolkvox-token")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// The request's headers as a PHP page would echo them.
    fn headers_text(&self) -> String {
        self.headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

enum Reply {
    Json(u16, Value),
    /// Status, extra headers, body.
    Raw(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// 200 with a chunked body that never ends.
    Endless,
    /// Close the connection without an answer.
    Hangup,
    /// Keep the request and never answer (within the hour).
    Stall,
}

type Handler = Arc<dyn Fn(&Req) -> Reply + Send + Sync>;

/// What the stand-in stored: `(record, obligation)` → the ids it gave, one
/// per insert it accepted (two would be a duplicate).
#[derive(Default)]
struct Store {
    obligations: Mutex<BTreeMap<(String, String), Vec<String>>>,
    next: AtomicU64,
    inserts: AtomicU64,
    queries: AtomicU64,
    requests: AtomicU64,
}

impl Store {
    /// Stores the insert in `req`; returns its new id.
    fn insert(&self, req: &Req) -> String {
        let body = req.json();
        let key = (
            body["wolkvox_id"].as_str().unwrap_or_default().to_string(),
            body["fields"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        let id = format!("w{:04}", self.next.fetch_add(1, Ordering::SeqCst) + 1);
        self.obligations
            .lock()
            .unwrap()
            .entry(key)
            .or_default()
            .push(id.clone());
        id
    }

    fn key_of_insert(req: &Req) -> (String, String) {
        let body = req.json();
        (
            body["wolkvox_id"].as_str().unwrap_or_default().to_string(),
            body["fields"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    }

    /// The API's answer to a query, as the fake CRM gives it.
    fn exact_query(&self, req: &Req) -> Reply {
        let body = req.json();
        let key = (
            body["wolkvox_id"].as_str().unwrap_or_default().to_string(),
            body["obligation"].as_str().unwrap_or_default().to_string(),
        );
        let found: Vec<Value> = self
            .obligations
            .lock()
            .unwrap()
            .get(&key)
            .map(|ids| {
                ids.iter()
                    .map(|id| json!({"id": key.1, "wolkvox_id": id}))
                    .collect()
            })
            .unwrap_or_default();
        if found.is_empty() {
            Reply::Json(
                200,
                json!({"code": 404, "error": "NO RECORDS FOUND", "msg": "NO RECORDS FOUND", "data": []}),
            )
        } else {
            Reply::Json(
                200,
                json!({"code": 200, "error": "null", "msg": "ok", "data": found}),
            )
        }
    }

    /// A loose query: every obligation of the record, whichever was asked.
    fn loose_query(&self, req: &Req) -> Reply {
        let record = req.json()["wolkvox_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let all: Vec<Value> = self
            .obligations
            .lock()
            .unwrap()
            .iter()
            .filter(|((r, _), _)| *r == record)
            .flat_map(|((_, ob), ids)| {
                ids.iter()
                    .map(move |id| json!({"id": ob, "wolkvox_id": id}))
            })
            .collect();
        Reply::Json(
            200,
            json!({"code": 200, "error": "null", "msg": "ok", "data": all}),
        )
    }

    fn created(id: &str) -> Reply {
        Reply::Json(
            200,
            json!({"code": 200, "error": "null", "msg": "Succesfully create record", "data": {"wolkvox_id": id}}),
        )
    }

    /// No obligation stored twice; every `created` row stored, with the id
    /// the store gave it; and, when `all`, every row stored.
    fn check(&self, results: &[ResultRow], all: bool) {
        let obligations = self.obligations.lock().unwrap();
        let dups: Vec<_> = obligations.iter().filter(|(_, v)| v.len() > 1).collect();
        assert!(dups.is_empty(), "obligations stored twice: {dups:?}");
        for r in results {
            let key = (r["wolkvox_id"].clone(), r["obligation_id"].clone());
            if r["status"] == "created" {
                let stored = obligations
                    .get(&key)
                    .unwrap_or_else(|| panic!("row {} created but never stored", r["row"]));
                assert_eq!(
                    r["obligation_wolkvox_id"], stored[0],
                    "row {} carries another obligation's id",
                    r["row"]
                );
            }
        }
        if all {
            assert_eq!(obligations.len(), results.len(), "every row must be stored");
        }
    }
}

/// The stand-in server, on its own runtime so the test can block on the
/// binary while it answers; dropping it stops every task.
struct StandIn {
    addr: SocketAddr,
    /// Owns the tasks that serve.
    _runtime: tokio::runtime::Runtime,
}

impl StandIn {
    /// Serves `handler`; `GET tokenInformation` is answered with a large
    /// quota.
    fn start(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> StandIn {
        StandIn::serve(handler, true)
    }

    /// Serves `handler`, which answers every request, the quota check too.
    fn start_all(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> StandIn {
        StandIn::serve(handler, false)
    }

    fn serve(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static, quota: bool) -> StandIn {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let handler: Handler = Arc::new(handler);
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = handler.clone();
                tokio::spawn(serve_connection(stream, handler, quota));
            }
        });
        StandIn {
            addr,
            _runtime: runtime,
        }
    }

    fn base(&self) -> String {
        format!("http://{}/server/API/v2/", self.addr)
    }
}

async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Req> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.split('?').next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..head_end + len].to_vec();
    buf.drain(..head_end + len);
    Some(Req {
        method,
        path,
        headers,
        body,
    })
}

async fn serve_connection(mut stream: TcpStream, handler: Handler, quota: bool) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut stream, &mut buf).await {
        let reply =
            if quota && req.method == "GET" && req.path.ends_with("/token/tokenInformation.php") {
                Reply::Json(
                    200,
                    json!({"code": 200, "data": {"token_limit": 100000, "token_use_today": 0}}),
                )
            } else {
                handler(&req)
            };
        let bytes = match reply {
            Reply::Json(status, v) => response(status, &[], v.to_string().into_bytes()),
            Reply::Raw(status, headers, body) => response(status, &headers, body),
            Reply::Hangup => return,
            Reply::Stall => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            Reply::Endless => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let opening = br#"{"code":200,"data":{"wolkvox_id":""#;
                let mut chunk = format!("{:x}\r\n", opening.len()).into_bytes();
                chunk.extend_from_slice(opening);
                chunk.extend_from_slice(b"\r\n");
                let _ = stream.write_all(&chunk).await;
                let filler = vec![b'a'; 64 * 1024];
                let mut piece = format!("{:x}\r\n", filler.len()).into_bytes();
                piece.extend_from_slice(&filler);
                piece.extend_from_slice(b"\r\n");
                // Until the client hangs up: a server gone mad.
                while stream.write_all(&piece).await.is_ok() {}
                return;
            }
        };
        if stream.write_all(&bytes).await.is_err() {
            return;
        }
    }
}

fn response(status: u16, headers: &[(&str, String)], body: Vec<u8>) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

/// A stand-in CRM whose inserts are answered by `on_insert` (given the
/// store, the request and how many times this obligation was posted
/// before), and whose look-ups are answered by `on_query`.
fn crm(
    on_insert: impl Fn(&Store, &Req, u64) -> Reply + Send + Sync + 'static,
    on_query: impl Fn(&Store, &Req) -> Reply + Send + Sync + 'static,
) -> (StandIn, Arc<Store>) {
    let store = Arc::new(Store::default());
    let seen: Arc<Mutex<BTreeMap<(String, String), u64>>> = Arc::default();
    let s = store.clone();
    let server = StandIn::start(move |req| {
        s.requests.fetch_add(1, Ordering::SeqCst);
        if req.is_insert() {
            s.inserts.fetch_add(1, Ordering::SeqCst);
            let key = Store::key_of_insert(req);
            let before = {
                let mut seen = seen.lock().unwrap();
                let n = seen.entry(key).or_default();
                *n += 1;
                *n - 1
            };
            on_insert(&s, req, before)
        } else if req.is_query() {
            s.queries.fetch_add(1, Ordering::SeqCst);
            on_query(&s, req)
        } else {
            Reply::Json(404, json!({"code": 404, "error": "NOT FOUND"}))
        }
    });
    (server, store)
}

// ---------------------------------------------------------------------------
// 1. Every answer judged before it is believed.

#[test]
fn a_redirect_after_storing_stops_the_run_and_resume_looks_the_row_up() {
    let wd = workdir(6);
    let redirecting = Arc::new(AtomicBool::new(true));
    let r = redirecting.clone();
    let (server, store) = crm(
        move |s, req, _| {
            let id = s.insert(req);
            if r.load(Ordering::SeqCst) {
                // Post/Redirect/Get, as a PHP front-end does it.
                Reply::Raw(
                    303,
                    vec![("Location", "https://sso.example.com/login.php".into())],
                    Vec::new(),
                )
            } else {
                Store::created(&id)
            }
        },
        |s, req| s.exact_query(req),
    );
    let run = import(&wd, &server.base(), &["--concurrency", "1"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr
            .contains("the server redirected to https://sso.example.com/login.php: check --server"),
        "{run:?}"
    );
    let counts = statuses(&wd);
    assert_eq!(counts.get("uncertain"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("not_sent"), Some(&5), "{counts:?}");
    // Never followed, never resent: one insert reached the server.
    assert_eq!(store.inserts.load(Ordering::SeqCst), 1);
    store.check(&read_results(&wd.path("results.csv")), false);

    redirecting.store(false, Ordering::SeqCst);
    let run = import(&wd, &server.base(), &["--resume"]);
    assert_eq!(run.code, 0, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    assert!(
        results.iter().all(|r| r["status"] == "created"),
        "{results:?}"
    );
    store.check(&results, true);
    // The row in doubt was looked up and found: 6 inserts in all.
    assert_eq!(store.inserts.load(Ordering::SeqCst), 6);
    assert!(store.queries.load(Ordering::SeqCst) >= 1);
}

#[test]
fn a_gateway_that_lost_the_answer_sends_the_row_to_a_look_up_never_a_resend() {
    // A load balancer in front of the API: the API stores the obligation,
    // then the gateway answers 504 (it stopped waiting) or 502 (the answer
    // broke) the first time each row is sent.
    let wd = workdir(8);
    let (server, store) = crm(
        |s, req, before| {
            let id = s.insert(req);
            match before {
                0 if s.next.load(Ordering::SeqCst) % 2 == 0 => Reply::Raw(
                    504,
                    vec![("Content-Type", "text/html".into())],
                    b"<html><body><h1>504 Gateway Time-out</h1></body></html>".to_vec(),
                ),
                0 => Reply::Raw(502, Vec::new(), b"Bad Gateway".to_vec()),
                _ => Store::created(&id),
            }
        },
        |s, req| s.exact_query(req),
    );
    let run = import(&wd, &server.base(), &["-v"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("HTTP 504 from a gateway"), "{run:?}");
    assert!(run.stderr.contains("HTTP 502 from a gateway"), "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    assert!(
        results.iter().all(|r| r["status"] == "created"),
        "{results:?}"
    );
    // Each row stored once, found by its look-up, never sent again.
    store.check(&results, true);
    assert_eq!(store.inserts.load(Ordering::SeqCst), 8);
    assert_eq!(store.queries.load(Ordering::SeqCst), 8);
}

#[test]
fn a_lookup_refused_with_code_400_leaves_the_row_uncertain_and_never_resends() {
    let wd = workdir(3);
    let refusing = Arc::new(AtomicBool::new(true));
    let r = refusing.clone();
    let (server, store) = crm(
        |s, req, _| {
            // Stored, but the answer is lost: the row is in doubt.
            s.insert(req);
            Reply::Hangup
        },
        move |s, req| {
            if r.load(Ordering::SeqCst) {
                Reply::Json(
                    200,
                    json!({"code": 400, "error": "SOME PARAMETERS ARE REQUIRED", "msg": "SOME PARAMETERS ARE REQUIRED"}),
                )
            } else {
                s.exact_query(req)
            }
        },
    );
    let run = import(&wd, &server.base(), &["--max-retries", "1"]);
    assert_eq!(run.code, 1, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    assert!(
        results.iter().all(|r| r["status"] == "uncertain"),
        "{results:?}"
    );
    assert!(
        results[0]["error"].contains("SOME PARAMETERS ARE REQUIRED"),
        "{results:?}"
    );
    store.check(&results, true);
    assert_eq!(store.inserts.load(Ordering::SeqCst), 3, "a row was resent");

    // The look-up works again: --resume settles every row without a resend.
    refusing.store(false, Ordering::SeqCst);
    let run = import(&wd, &server.base(), &["--resume"]);
    assert_eq!(run.code, 0, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    assert!(results.iter().all(|r| r["status"] == "created"));
    store.check(&results, true);
    assert_eq!(store.inserts.load(Ordering::SeqCst), 3);
}

#[test]
fn a_loose_lookup_never_lends_a_siblings_id() {
    let wd = workdir(8);
    // Rows 1, 4 and 7 never reach the store the first time; the others are
    // stored but their answer is lost. Every row is then looked up, and the
    // look-up lists every obligation of the record.
    let (server, store) = crm(
        |s, req, before| {
            let id = Store::key_of_insert(req).1;
            let lost = ["OB-1", "OB-4", "OB-7"].contains(&id.as_str());
            if before == 0 {
                if !lost {
                    s.insert(req);
                }
                Reply::Hangup
            } else {
                let id = s.insert(req);
                Store::created(&id)
            }
        },
        |s, req| s.loose_query(req),
    );
    let run = import(&wd, &server.base(), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    assert!(
        results.iter().all(|r| r["status"] == "created"),
        "{results:?}"
    );
    store.check(&results, true);
    // The lost three were sent again (found missing from a complete list),
    // the others never.
    assert_eq!(store.inserts.load(Ordering::SeqCst), 8 + 3);
}

/// Inserts that are stored but whose answer is lost: every row is in doubt
/// and goes to a look-up, answered by `on_query` while `odd` is set and
/// exactly afterwards.
fn lost_answers(
    odd: Arc<AtomicBool>,
    on_query: impl Fn(&Store, &Req) -> Reply + Send + Sync + 'static,
) -> (StandIn, Arc<Store>) {
    crm(
        |s, req, _| {
            s.insert(req);
            Reply::Hangup
        },
        move |s, req| {
            if odd.load(Ordering::SeqCst) {
                on_query(s, req)
            } else {
                s.exact_query(req)
            }
        },
    )
}

#[test]
fn a_lookup_answered_with_another_single_obligation_proves_nothing() {
    let wd = workdir(4);
    let odd = Arc::new(AtomicBool::new(true));
    // The server ignores the obligation asked for and answers with the
    // record's first obligation, as one object.
    let (server, store) = lost_answers(odd.clone(), |s, req| {
        let record = req.json()["wolkvox_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let first = s
            .obligations
            .lock()
            .unwrap()
            .iter()
            .find(|((r, _), _)| *r == record)
            .map(|((_, ob), ids)| json!({"id": ob, "wolkvox_id": ids[0]}));
        match first {
            Some(ob) => Reply::Json(
                200,
                json!({"code": 200, "error": "null", "msg": "ok", "data": ob}),
            ),
            None => Reply::Json(
                200,
                json!({"code": 404, "error": "NO RECORDS FOUND", "data": []}),
            ),
        }
    });
    let run = import(
        &wd,
        &server.base(),
        &["--concurrency", "1", "--max-retries", "1"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    let by_id = |id: &str| results.iter().find(|r| r["obligation_id"] == id).unwrap();
    // The first of each record was the one asked for: found.
    for id in ["OB-1", "OB-2"] {
        assert_eq!(by_id(id)["status"], "created", "{results:?}");
    }
    // The others were answered about their sibling: still in doubt.
    for id in ["OB-3", "OB-4"] {
        let r = by_id(id);
        assert_eq!(r["status"], "uncertain", "{results:?}");
        assert!(r["error"].contains("another obligation"), "{r:?}");
    }
    store.check(&results, true);
    assert_eq!(store.inserts.load(Ordering::SeqCst), 4, "a row was resent");

    odd.store(false, Ordering::SeqCst);
    let run = import(&wd, &server.base(), &["--resume"]);
    assert_eq!(run.code, 0, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    assert!(
        results.iter().all(|r| r["status"] == "created"),
        "{results:?}"
    );
    store.check(&results, true);
    assert_eq!(store.inserts.load(Ordering::SeqCst), 4);
}

#[test]
fn a_lookup_that_finds_the_obligation_with_an_empty_id_leaves_it_in_doubt() {
    let wd = workdir(3);
    let odd = Arc::new(AtomicBool::new(true));
    let (server, store) = lost_answers(odd.clone(), |_, req| {
        let asked = req.json()["obligation"].clone();
        Reply::Json(
            200,
            json!({"code": "200", "data": {"id": asked, "wolkvox_id": ""}}),
        )
    });
    let run = import(&wd, &server.base(), &["--max-retries", "1"]);
    assert_eq!(run.code, 1, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    for r in &results {
        assert_eq!(r["status"], "uncertain", "{r:?}");
        assert!(r["error"].contains("an empty id"), "{r:?}");
    }
    assert_eq!(store.inserts.load(Ordering::SeqCst), 3, "a row was resent");

    odd.store(false, Ordering::SeqCst);
    let run = import(&wd, &server.base(), &["--resume"]);
    assert_eq!(run.code, 0, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    for r in &results {
        assert_eq!(r["status"], "created", "{r:?}");
        assert!(!r["obligation_wolkvox_id"].is_empty(), "{r:?}");
    }
    store.check(&results, true);
    assert_eq!(store.inserts.load(Ordering::SeqCst), 3);
}

#[test]
fn a_lookup_whose_failing_code_says_the_obligation_does_not_exist_is_not_found() {
    let wd = workdir(4);
    let (server, store) = crm(
        |s, req, before| {
            let id = Store::key_of_insert(req).1;
            match (id.as_str(), before) {
                // Lost on the way: never stored.
                ("OB-2", 0) => Reply::Hangup,
                // Stored, the answer lost.
                (_, 0) => {
                    s.insert(req);
                    Reply::Hangup
                }
                _ => {
                    let id = s.insert(req);
                    Store::created(&id)
                }
            }
        },
        |s, req| match s.exact_query(req) {
            Reply::Json(_, v) if v["code"] == 404 => Reply::Json(
                200,
                json!({"code": "400", "error": "ERROR", "msg": "No existe la obligación consultada"}),
            ),
            found => found,
        },
    );
    let run = import(&wd, &server.base(), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    assert!(
        results.iter().all(|r| r["status"] == "created"),
        "{results:?}"
    );
    store.check(&results, true);
    // The one never stored was sent again, once; the others never.
    assert_eq!(store.inserts.load(Ordering::SeqCst), 4 + 1);
}

#[test]
fn a_success_without_data_is_looked_up_not_believed() {
    let wd = workdir(4);
    let (server, store) = crm(
        |s, req, _| {
            s.insert(req);
            Reply::Json(200, json!({"code": "200"}))
        },
        |s, req| s.exact_query(req),
    );
    let run = import(&wd, &server.base(), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    for r in &results {
        assert_eq!(r["status"], "created", "{r:?}");
        assert!(!r["obligation_wolkvox_id"].is_empty(), "{r:?}");
    }
    store.check(&results, true);
    assert_eq!(store.inserts.load(Ordering::SeqCst), 4);
    assert_eq!(store.queries.load(Ordering::SeqCst), 4);
}

#[test]
fn an_update_answered_success_without_an_id_is_updated_with_the_known_id() {
    let wd = workdir(3);
    let store = Arc::new(Store::default());
    let puts = Arc::new(AtomicU64::new(0));
    let (s, p) = (store.clone(), puts.clone());
    let server = StandIn::start(move |req| {
        if req.is_insert() {
            s.inserts.fetch_add(1, Ordering::SeqCst);
            let id = s.insert(req);
            Store::created(&id)
        } else if req.method == "PUT" {
            p.fetch_add(1, Ordering::SeqCst);
            match Store::key_of_insert(req).1.as_str() {
                // Something that is not an id.
                "OB-2" => Reply::Json(200, json!({"code": 200, "data": {"wolkvox_id": ""}})),
                _ => Reply::Json(200, json!({"code": "200"})),
            }
        } else {
            s.exact_query(req)
        }
    });
    let run = import(&wd, &server.base(), &["--mode", "sync"]);
    assert_eq!(run.code, 0, "{run:?}");
    let created = read_results(&wd.path("results.csv"));
    store.check(&created, true);

    // Every balance changes: sync updates each obligation.
    let changed = wd.read("cartera.csv").replace(",100", ",200");
    wd.write("cartera.csv", changed);
    let run = import(&wd, &server.base(), &["--mode", "sync"]);
    assert_eq!(run.code, 0, "{run:?}");
    let updated = read_results(&wd.path("results.csv"));
    for (before, after) in created.iter().zip(&updated) {
        assert_eq!(after["status"], "updated", "{after:?}");
        assert_eq!(after["attempts"], "1", "{after:?}");
        assert_eq!(
            after["obligation_wolkvox_id"], before["obligation_wolkvox_id"],
            "{after:?}"
        );
    }
    // One PUT each, never repeated; the answer that was not an id is said.
    assert_eq!(puts.load(Ordering::SeqCst), 3);
    assert!(
        run.stderr
            .contains("the obligation's id already known is kept"),
        "{run:?}"
    );
    assert_eq!(store.inserts.load(Ordering::SeqCst), 3);
}

#[test]
fn a_login_page_or_a_proxy_asking_for_credentials_stops_the_run_at_once() {
    // A single sign-on page, or a proxy's.
    fn page(status: u16) -> Reply {
        Reply::Raw(
            status,
            vec![("Content-Type", "text/html".into())],
            b"<html><body>Authentication required</body></html>".to_vec(),
        )
    }
    // Writes answered 401 or 407 (the quota check passes), then every
    // request, the quota check included.
    for (status, all, words) in [
        (401, false, "asked for authentication (HTTP 401)"),
        (
            407,
            false,
            "a proxy between this machine and the server asks for authentication",
        ),
        (401, true, "asked for authentication (HTTP 401)"),
        (
            407,
            true,
            "a proxy between this machine and the server asks for authentication",
        ),
    ] {
        let wd = workdir(4);
        let requests = Arc::new(AtomicU64::new(0));
        let r = requests.clone();
        let handler = move |_: &Req| {
            r.fetch_add(1, Ordering::SeqCst);
            page(status)
        };
        let server = if all {
            StandIn::start_all(handler)
        } else {
            StandIn::start(handler)
        };
        let run = import(&wd, &server.base(), &["--concurrency", "1"]);
        let case = format!("{status}, quota check refused too: {all}");
        assert_eq!(run.code, 3, "{case}: {run:?}");
        assert!(run.stderr.contains(words), "{case}: {run:?}");
        assert!(!run.stderr.contains("maintenance"), "{case}: {run:?}");
        if status == 407 {
            assert!(run.stderr.contains("docs/operations.md"), "{case}: {run:?}");
        }
        // At once: one request, and no row is failed for it.
        assert_eq!(requests.load(Ordering::SeqCst), 1, "{case}");
        assert_eq!(statuses(&wd).get("not_sent"), Some(&4), "{case}");
    }
}

#[test]
fn ids_too_long_or_with_control_characters_are_looked_up() {
    let wd = workdir(3);
    let (server, store) = crm(
        |s, req, _| {
            s.insert(req);
            let junk = match Store::key_of_insert(req).1.as_str() {
                // 10 MB: past the cap on the answer's size.
                "OB-1" => "9".repeat(10 << 20),
                "OB-2" => "x".repeat(65),
                _ => "12\u{7}3".to_string(),
            };
            Reply::Json(200, json!({"code": 200, "data": {"wolkvox_id": junk}}))
        },
        |s, req| s.exact_query(req),
    );
    let run = import(&wd, &server.base(), &["--concurrency", "1"]);
    assert_eq!(run.code, 0, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    assert!(results.iter().all(|r| r["status"] == "created"));
    store.check(&results, true);
    assert_eq!(store.inserts.load(Ordering::SeqCst), 3);
    assert!(std::fs::metadata(wd.path("results.csv")).unwrap().len() < 4096);
}

/// Runs the binary to its end (killed after `limit`) and returns its peak
/// resident memory in MiB, measured by the kernel for that child alone.
#[cfg(target_os = "linux")]
// The child is reaped by wait4, which alone gives its own rusage.
#[allow(clippy::zombie_processes)]
fn run_measured(mut cmd: Command, limit: Duration) -> (Run, u64) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let readers = [
        std::thread::spawn(move || {
            let mut s = Vec::new();
            std::io::Read::read_to_end(&mut out, &mut s).ok();
            s
        }),
        std::thread::spawn(move || {
            let mut s = Vec::new();
            std::io::Read::read_to_end(&mut err, &mut s).ok();
            s
        }),
    ];
    let started = Instant::now();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our child, not yet reaped; the pointers are valid.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert!(r == 0, "wait4 failed");
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("the import ran for more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let [o, e] = readers.map(|h| h.join().unwrap());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    let run = Run {
        code,
        stdout: String::from_utf8_lossy(&o).into_owned(),
        stderr: String::from_utf8_lossy(&e).into_owned(),
    };
    // ru_maxrss is in KiB on Linux.
    (run, usage.ru_maxrss as u64 / 1024)
}

#[cfg(target_os = "linux")]
#[test]
fn an_endless_body_keeps_memory_bounded_and_the_row_is_looked_up() {
    let wd = workdir(2);
    let (server, store) = crm(
        |s, req, _| {
            s.insert(req);
            Reply::Endless
        },
        |s, req| s.exact_query(req),
    );
    let (run, peak_mib) = run_measured(
        import_cmd(&wd, &server.base(), &["--concurrency", "1"]),
        Duration::from_secs(90),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(peak_mib < 64, "peak memory {peak_mib} MiB");
    let results = read_results(&wd.path("results.csv"));
    assert!(
        results.iter().all(|r| r["status"] == "created"),
        "{results:?}"
    );
    store.check(&results, true);
    assert_eq!(store.inserts.load(Ordering::SeqCst), 2);
    assert_eq!(store.queries.load(Ordering::SeqCst), 2);
}

#[test]
fn a_server_that_goes_away_mid_run_leaves_the_rows_it_never_got_not_sent() {
    let rt = runtime();
    let wd = workdir(200);
    let ledger = wd.path("crm.jsonl");
    let opts = || FakeCrmOptions {
        token: TOKEN.into(),
        latency: Duration::from_millis(5),
        ledger: Some(ledger.clone()),
        ..Default::default()
    };
    let fake = rt
        .block_on(FakeCrm::start("127.0.0.1:0".parse().unwrap(), opts()))
        .unwrap();
    let (addr, base) = (fake.local_addr(), fake.base_url());
    let mut child = Running::spawn(import_cmd(&wd, &base, &["--max-retries", "2"]));
    wait_until("20 obligations stored", || {
        assert!(child.is_running(), "ended early: {}", child.stderr());
        fake.stats().inserts >= 20
    });
    // Gone: every connection from now on is refused.
    rt.block_on(fake.shutdown());
    let run = child.wait();
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("stopped accepting connections"),
        "{run:?}"
    );
    let results = read_results(&wd.path("results.csv"));
    let counts = statuses(&wd);
    // Never 'failed': the API refused nothing. A request cut off by the
    // shutdown may be 'uncertain'; the rest were created or never sent.
    assert_eq!(counts.get("failed"), None, "{counts:?}");
    assert!(
        counts.get("uncertain").copied().unwrap_or(0) <= 2,
        "{counts:?}"
    );
    // Whichever row met the refusals last, after its retries, stopped the
    // run: it and the rows its stop found are not sent.
    for r in results.iter().filter(|r| r["status"] == "not_sent") {
        let refused = r["error"].contains("attempts reached the server");
        assert!(
            refused || r["error"].contains("stopped accepting connections"),
            "{r:?}"
        );
        // Refused connections are no requests: such a row made none.
        if refused {
            assert_eq!(r["attempts"], "0", "{r:?}");
        }
    }
    assert!(
        counts.get("not_sent").copied().unwrap_or(0) >= 100,
        "{counts:?}"
    );

    // Back on the same address: --resume sends what was not sent, once.
    let fake = rt.block_on(FakeCrm::start(addr, opts())).unwrap();
    let run = import(&wd, &base, &["--resume"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(statuses(&wd).get("created"), Some(&200));
    let entries = fake.ledger_entries();
    let mut ids: Vec<&str> = entries
        .iter()
        .map(|e| e["obligation"].as_str().unwrap())
        .collect();
    ids.sort();
    let stored = ids.len();
    ids.dedup();
    assert_eq!((stored, ids.len()), (200, 200), "{entries:?}");
    rt.block_on(fake.shutdown());
}

#[test]
fn requests_refused_before_they_were_sent_are_not_counted_as_requests() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let wd = workdir(3);
    let run = import(
        &wd,
        &format!("http://127.0.0.1:{port}/"),
        &["--max-requests", "10"],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("cannot reach the server"), "{run:?}");
    assert!(run.stderr.contains(", 0 requests"), "{run:?}");
    assert_eq!(statuses(&wd).get("not_sent"), Some(&3));
}

// ---------------------------------------------------------------------------
// 2. Secrets stay secret.

#[test]
fn a_server_that_echoes_the_token_never_gets_it_into_any_output() {
    // A '/' that PHP's json_encode writes as "\/".
    let token = "echo/T0ken+9f8e7d6c";
    let escaped = token.replace('/', "\\/");
    let wd = workdir(5);
    let (server, _store) = crm(
        |_, req, _| {
            let echo = req.headers_text();
            match Store::key_of_insert(req).1.as_str() {
                "OB-1" => {
                    let msg = format!("BAD REQUEST, headers: {echo}");
                    // As PHP writes it: every '/' escaped.
                    let body = json!({"code": 400, "error": "BAD REQUEST", "msg": msg})
                        .to_string()
                        .replace('/', "\\/");
                    Reply::Raw(400, vec![], body.into_bytes())
                }
                "OB-2" => Reply::Raw(
                    400,
                    vec![("Content-Type", "text/plain".into())],
                    format!("Bad request. Your headers: {echo}").into_bytes(),
                ),
                "OB-3" => Reply::Json(
                    503,
                    json!({"code": 503, "error": format!("OVERLOADED ({echo})")}),
                ),
                _ => Reply::Raw(
                    302,
                    vec![(
                        "Location",
                        format!("https://sso.example.com/?t={}", req.token()),
                    )],
                    Vec::new(),
                ),
            }
        },
        |s, req| s.exact_query(req),
    );
    let run = import_with_token(
        &wd,
        &server.base(),
        &[
            "--concurrency",
            "1",
            "--max-retries",
            "1",
            "--payloads",
            "payloads.jsonl",
            "--rejects",
            "rejects.csv",
            "-vv",
        ],
        token,
    );
    assert_eq!(run.code, 3, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    // The echoes did reach the results, scrubbed.
    assert!(
        results[0]["error"].contains("[token hidden]"),
        "{results:?}"
    );
    assert!(
        results[1]["error"].contains("[token hidden]"),
        "{results:?}"
    );
    assert!(run.stderr.contains("[token hidden]"), "{run:?}");
    for needle in [
        token,
        escaped.as_str(),
        "T0ken+9f8e7d6c",
        "T0ken%2B9f8e7d6c",
    ] {
        assert_nowhere(&wd, &run, needle);
    }
}

#[test]
fn a_token_echoed_escaped_upper_cased_or_cut_never_reaches_any_output() {
    // '=' is what Gson escapes as \u003d.
    let token = "Zq7-echo-T0ken-9f8e==";
    let wd = workdir(4);
    let (server, _store) = crm(
        |_, req, _| {
            let sent = req.token();
            let failing = |echo: String| {
                format!(r#"{{"code":400,"error":"BAD","msg":"headers: Wolkvox-Token: {echo}"}}"#)
                    .into_bytes()
            };
            match Store::key_of_insert(req).1.as_str() {
                // As Gson writes it, under HTTP 200.
                "OB-1" => Reply::Raw(200, vec![], failing(sent.replace('=', "\\u003d"))),
                // Every character escaped.
                "OB-2" => Reply::Raw(
                    200,
                    vec![],
                    failing(
                        sent.chars()
                            .map(|c| format!("\\u{:04x}", c as u32))
                            .collect(),
                    ),
                ),
                "OB-3" => Reply::Raw(400, vec![], failing(sent.to_uppercase())),
                // A long Location that a cut at 200 characters would split
                // across the token.
                _ => Reply::Raw(
                    302,
                    vec![(
                        "Location",
                        format!("https://x.example/{}{sent}", "p".repeat(175)),
                    )],
                    Vec::new(),
                ),
            }
        },
        |s, req| s.exact_query(req),
    );
    let run = import_with_token(&wd, &server.base(), LEAK_PROBE_ARGS, token);
    assert_eq!(run.code, 3, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    for r in &results[..3] {
        assert_eq!(r["status"], "failed", "{r:?}");
        assert!(
            r["error"].contains("Wolkvox-Token: [token hidden]"),
            "{r:?}"
        );
    }
    assert_eq!(results[3]["status"], "uncertain", "{results:?}");
    assert!(
        results[3]["error"].contains("https://x.example/ppp"),
        "{results:?}"
    );
    // The token in any case, and any start of it long enough to matter.
    let mut needles = vec![
        token.to_string(),
        token.to_uppercase(),
        token.to_lowercase(),
    ];
    needles.extend((4..token.len()).map(|n| token[..n].to_string()));
    for needle in &needles {
        let lower = needle.to_lowercase();
        assert!(
            !run.stdout.to_lowercase().contains(&lower),
            "stdout holds {needle}"
        );
        assert!(
            !run.stderr.to_lowercase().contains(&lower),
            "stderr holds {needle}: {}",
            run.stderr
        );
        for variant in [needle.clone(), needle.to_uppercase(), lower.clone()] {
            let leaked = files_containing(wd.root(), &variant);
            assert!(leaked.is_empty(), "{variant} written to {leaked:?}");
        }
    }
}

#[test]
fn server_text_cannot_drive_the_terminal_or_forge_log_lines() {
    let hostile = "x\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{1b}[31mred\r\nFAKE LOG LINE: row=9 status=created\u{202e}evil";
    let wd = workdir(3);
    let (server, store) = crm(
        move |s, req, _| match Store::key_of_insert(req).1.as_str() {
            "OB-3" => {
                // Stored, with an id that hides a bidi override and a
                // zero-width space: not an id to believe.
                s.insert(req);
                Reply::Json(
                    200,
                    json!({"code": 200, "data": {"wolkvox_id": "\u{f1}\u{fc}\u{202e}evil\u{200b}"}}),
                )
            }
            _ => Reply::Json(400, json!({"code": 400, "error": "BAD", "msg": hostile})),
        },
        |s, req| s.exact_query(req),
    );
    let run = import(
        &wd,
        &server.base(),
        &[
            "--concurrency",
            "1",
            "--rejects",
            "rejects.csv",
            "--report",
            "report.html",
            "-v",
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(results[0]["status"], "failed", "{results:?}");
    assert!(results[0]["error"].contains("PWNED"), "{results:?}");
    // Looked up, and created with the id the server holds.
    assert_eq!(results[2]["status"], "created", "{results:?}");
    store.check(&results, false);
    let hidden = |c: char| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
    };
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(!text.chars().any(hidden), "{name}: {text:?}");
        assert!(
            !text.lines().any(|l| l.starts_with("FAKE LOG LINE")),
            "{name} has a forged line: {text}"
        );
    }
    for file in ["results.csv", "rejects.csv", "report.html", "ledger.sqlite"] {
        let bytes = std::fs::read(wd.path(file)).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        // Sequences, not single bytes: the ledger's binary pages hold
        // bytes of every value.
        for bad in [
            "\u{1b}]0;",
            "\u{1b}[2J",
            "PWNED\u{7}",
            "\u{202e}",
            "\u{200b}",
            "\r\nFAKE",
        ] {
            assert!(!text.contains(bad), "{file} holds {bad:?}");
        }
    }
    // The summary's most common problem says what the server said, made
    // visible.
    assert!(run.stderr.contains("PWNED"), "{run:?}");
}

#[test]
fn a_megabyte_msg_is_cut_short_and_the_token_in_it_is_hidden_first() {
    let token = "Zq7-long-T0ken-9f8e==";
    let wd = workdir(3);
    let (server, _store) = crm(
        |_, req, _| {
            let sent = req.token();
            // The token echoed across the 500th character, where the text
            // is cut, then close to a megabyte more: the whole answer still
            // fits under the 1 MiB an answer may have, so it is judged.
            let msg = format!(
                "{}{sent}{}",
                "ñ".repeat(480),
                "x".repeat(1_047_000 - 2 * sent.len())
            );
            Reply::Json(
                400,
                json!({"code": 400, "error": "BAD REQUEST", "msg": msg}),
            )
        },
        |s, req| s.exact_query(req),
    );
    let run = import(&wd, &server.base(), LEAK_PROBE_ARGS);
    assert_eq!(run.code, 1, "{}", &run.stderr[..run.stderr.len().min(4000)]);
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(results.len(), 3);
    for r in &results {
        assert_eq!(r["status"], "failed", "{r:?}");
        let error = &r["error"];
        assert!(error.chars().count() < 700, "{} characters", error.len());
        assert!(error.contains("BAD REQUEST"), "{error}");
        assert!(error.contains(&"ñ".repeat(480)), "{error}");
        // Scrubbed whole before the cut: the token is hidden, not split.
        assert!(error.contains("[token hidden]"), "{error}");
        let (kept, told) = error.rsplit_once("… (").expect("cut with its length");
        assert!(kept.ends_with('x'), "{error}");
        let count: usize = told
            .strip_suffix(" characters)")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no length: {error}"));
        assert!((1_040_000..=1_048_576).contains(&count), "{count}");
    }
    // Nothing holds the megabyte: not the log, the summary, the rejects or
    // the report.
    assert!(
        run.stdout.len() + run.stderr.len() < 64 * 1024,
        "{}",
        run.stderr.len()
    );
    for file in ["results.csv", "rejects.csv", "report.html"] {
        let len = std::fs::metadata(wd.path(file)).unwrap().len();
        assert!(len < 256 * 1024, "{file}: {len} bytes");
    }
    let mut needles = vec![token.to_string()];
    needles.extend((4..token.len()).map(|n| token[..n].to_string()));
    for needle in &needles {
        assert_nowhere(&wd, &run, needle);
    }
}

/// A token of the usual shape: forty hexadecimal characters.
const HEX_TOKEN: &str = "7f3a9c1e5b2d4f60a8e1c3b5d7f9a2c4e6b8d0f1";

#[test]
fn a_piece_of_the_token_echoed_by_the_server_is_hidden_everywhere() {
    let wd = workdir(4);
    let (server, _store) = crm(
        |_, req, _| {
            let t = req.token();
            match Store::key_of_insert(req).1.as_str() {
                // The server cut the token where it echoed it.
                "OB-1" => Reply::Json(
                    400,
                    json!({"code": 400, "error": "BAD", "msg": format!("invalid request from token {}...", &t[..26])}),
                ),
                // Its middle, in a page.
                "OB-2" => Reply::Raw(
                    400,
                    vec![("Content-Type", "text/plain".into())],
                    format!("Bad request (key …{}…)", &t[10..30]).into_bytes(),
                ),
                // Its end, upper-cased, some of it escaped, under HTTP 200.
                "OB-3" => Reply::Raw(
                    200,
                    vec![],
                    format!(
                        r#"{{"code":"400","error":"BAD","msg":"key ends \u{:04x}{}"}}"#,
                        t.as_bytes()[28],
                        t[29..].to_uppercase()
                    )
                    .into_bytes(),
                ),
                // Percent-encoded in a query string, cut.
                _ => Reply::Json(
                    400,
                    json!({"code": 400, "error": "BAD", "msg": format!("see /err?t={}", t[4..16].bytes().map(|b| format!("%{b:02X}")).collect::<String>())}),
                ),
            }
        },
        |s, req| s.exact_query(req),
    );
    let run = import_with_token(&wd, &server.base(), LEAK_PROBE_ARGS, HEX_TOKEN);
    assert_eq!(run.code, 1, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    for r in &results {
        assert_eq!(r["status"], "failed", "{r:?}");
        assert!(r["error"].contains("[token hidden]"), "{r:?}");
    }
    assert!(results[0]["error"].contains("invalid request from token [token hidden]..."));
    // Not one run of eight of its characters, in any case, anywhere:
    // stdout, stderr, results, rejects, report, ledger.
    for from in 0..=HEX_TOKEN.len() - 8 {
        let piece = &HEX_TOKEN[from..from + 8];
        for variant in [piece.to_string(), piece.to_uppercase()] {
            assert_nowhere(&wd, &run, &variant);
        }
    }
}

#[test]
fn a_lookup_whose_answer_had_the_token_hidden_never_counts_as_not_found() {
    // The obligation ids are pieces of the token: the look-up's listing of
    // the very obligation asked for comes back with its id hidden, and
    // must not be taken for a listing that lacks it.
    let wd = Workdir::new();
    portfolio(&wd, "cartera.csv", 2, "4540410858241");
    wd.write("m.toml", MAPPING);
    let token = "Zq9-45404108582412-kLm7pQ";
    let (server, store) = crm(
        |s, req, _| {
            s.insert(req);
            // Stored, then the gateway lost the answer.
            Reply::Raw(504, Vec::new(), b"Gateway Time-out".to_vec())
        },
        |s, req| s.exact_query(req),
    );
    let run = import_with_token(&wd, &server.base(), &["--max-retries", "1"], token);
    let results = read_results(&wd.path("results.csv"));
    assert!(
        results.iter().all(|r| r["status"] == "uncertain"),
        "{results:?} {run:?}"
    );
    assert!(
        run.stderr.contains("cannot prove the obligation is absent"),
        "{run:?}"
    );
    // Each stored once: never sent again on such an answer.
    store.check(&results, true);
    assert_eq!(store.inserts.load(Ordering::SeqCst), 2);
}

#[test]
fn an_id_that_holds_the_token_is_looked_up_not_believed() {
    let wd = workdir(3);
    let (server, store) = crm(
        |s, req, _| {
            s.insert(req);
            let t = req.token();
            let id = match Store::key_of_insert(req).1.as_str() {
                "OB-1" => t,
                "OB-2" => format!("id-{}", &t[5..17]),
                _ => t.to_uppercase(),
            };
            Store::created(&id)
        },
        |s, req| {
            // The look-up of the third row says the same.
            if req.json()["obligation"] == "OB-3" {
                let t = req.token();
                return Reply::Json(
                    200,
                    json!({"code": 200, "data": [{"id": "OB-3", "wolkvox_id": t}]}),
                );
            }
            s.exact_query(req)
        },
    );
    let run = import_with_token(
        &wd,
        &server.base(),
        &[
            "--concurrency",
            "1",
            "--max-retries",
            "1",
            "--report",
            "report.html",
        ],
        HEX_TOKEN,
    );
    assert_eq!(run.code, 1, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    // Looked up, and created with the id the server holds.
    assert_eq!(results[0]["status"], "created", "{results:?}");
    assert_eq!(results[1]["status"], "created", "{results:?}");
    assert_eq!(results[2]["status"], "uncertain", "{results:?}");
    assert_eq!(results[2]["obligation_wolkvox_id"], "", "{results:?}");
    assert!(
        results[2]["error"].contains("holds the API token"),
        "the error says why: {results:?}"
    );
    store.check(&results, true);
    // Each row looked up, none resent, nothing stored twice.
    assert_eq!(store.inserts.load(Ordering::SeqCst), 3);
    assert!(store.queries.load(Ordering::SeqCst) >= 3);
    // No id that is the hidden token is kept: not in the results, not in
    // the ledger.
    for file in ["results.csv", "ledger.sqlite"] {
        let bytes = std::fs::read(wd.path(file)).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("[token hidden]"),
            "{file} keeps the hidden token as an id"
        );
    }
    for from in 0..=HEX_TOKEN.len() - 8 {
        assert_nowhere(&wd, &run, &HEX_TOKEN[from..from + 8]);
    }
}

#[test]
fn a_token_file_from_notepad_works_and_an_open_one_draws_a_warning() {
    let fake = FakeServer::start(FakeCrmOptions {
        token: TOKEN.into(),
        ..Default::default()
    });
    let wd = workdir(3);
    // What Notepad writes: a byte order mark and a Windows line end.
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(TOKEN.as_bytes());
    bytes.extend_from_slice(b"\r\n");
    let token_file = wd.write("token", bytes);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    let other = "another-token-from-the-environment";
    let out = import_cmd(&wd, &fake.base_url(), &["--token-file", "token"])
        .env("WOLKVOX_TOKEN", other)
        .output()
        .unwrap();
    let run = Run::from(out);
    assert_eq!(run.code, 0, "{run:?}");
    #[cfg(unix)]
    assert!(
        run.stderr.contains("can be read by its group") && run.stderr.contains("chmod 600"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("both WOLKVOX_TOKEN and --token-file are set")
            && run.stderr.contains("using the token in token"),
        "{run:?}"
    );
    assert!(
        !run.stderr.contains(TOKEN) && !run.stderr.contains(other),
        "{run:?}"
    );
    assert_eq!(fake.stats().inserts, 3);

    wd.write("two-lines", format!("{TOKEN}\nsecond line\n"));
    let run = import(&wd, &fake.base_url(), &["--token-file", "two-lines"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("two or more lines"), "{run:?}");
    wd.write("accent", "tok\u{e9}n-value\n");
    let run = import(&wd, &fake.base_url(), &["--token-file", "accent"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("a character a token cannot have"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("tok\u{e9}n"), "{run:?}");
    assert_eq!(fake.stats().inserts, 3);
}

/// A listener that counts the connections it gets and answers none.
fn counting_listener(rt: &tokio::runtime::Runtime) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicU64::new(0));
    let h = hits.clone();
    rt.spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            h.fetch_add(1, Ordering::SeqCst);
            let _ = s.shutdown().await;
        }
    });
    (addr, hits)
}

#[test]
fn proxies_are_never_used_for_this_machine() {
    let rt = runtime();
    let (proxy, hits) = counting_listener(&rt);
    let fake = FakeServer::start(FakeCrmOptions {
        token: TOKEN.into(),
        ..Default::default()
    });
    let wd = workdir(3);
    let proxy_url = format!("http://{proxy}");
    let mut cmd = import_cmd(&wd, &fake.base_url(), &[]);
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(var, &proxy_url);
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    let run = Run::from(cmd.output().unwrap());
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the proxy got a request");
    assert_eq!(fake.stats().inserts, 3);
}

// ---------------------------------------------------------------------------
// 3. Bank networks: a private CA, a TLS-inspecting proxy.

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A private CA (as a bank's inspection proxy has) and a server
/// certificate it signed for `names`.
struct Pki {
    ca_pem: String,
    acceptor: tokio_rustls::TlsAcceptor,
}

fn private_pki(names: &[&str]) -> Pki {
    use tokio_rustls::rustls;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Banco Ejemplo Inspection CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        )
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    }
}

/// Reads a request's head byte by byte (so nothing after it is consumed)
/// and returns its first line; `None` if the peer hangs up first.
async fn read_request_line(tcp: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        if tcp.read(&mut b).await.ok() != Some(1) {
            return None;
        }
        head.push(b[0]);
    }
    Some(
        String::from_utf8_lossy(&head)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
    )
}

/// Terminates TLS on a new port and forwards the plain bytes to `backend`.
/// With `connect`, it first plays an HTTP proxy: it reads a `CONNECT`,
/// records its target, says yes, and then inspects the tunnel (terminates
/// TLS with its own certificate), as a bank's inspection proxy does.
fn tls_front(
    rt: &tokio::runtime::Runtime,
    pki: &Pki,
    backend: SocketAddr,
    connect: bool,
) -> TlsFront {
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let connections = Arc::new(AtomicU64::new(0));
    let acceptor = pki.acceptor.clone();
    let s = seen.clone();
    let c = connections.clone();
    rt.spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let seen = s.clone();
            tokio::spawn(async move {
                if connect {
                    let Some(line) = read_request_line(&mut tcp).await else {
                        return;
                    };
                    seen.lock().unwrap().push(line);
                    if tcp
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut back) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut back).await;
            });
        }
    });
    TlsFront {
        addr,
        seen,
        connections,
    }
}

/// A TLS front (or TLS-inspecting proxy) to the fake, as `tls_front` starts it.
struct TlsFront {
    addr: SocketAddr,
    /// The CONNECT lines a proxy received.
    seen: Arc<Mutex<Vec<String>>>,
    /// TCP connections accepted.
    connections: Arc<AtomicU64>,
}

fn fake_addr(fake: &FakeServer) -> SocketAddr {
    let url = fake.base_url();
    let hostport = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    hostport.parse().unwrap()
}

#[test]
fn a_private_ca_stops_at_once_without_trust_and_works_with_ca_cert_or_ssl_cert_file() {
    let rt = runtime();
    let pki = private_pki(&["127.0.0.1", "localhost"]);
    let fake = FakeServer::start(FakeCrmOptions {
        token: TOKEN.into(),
        ..Default::default()
    });
    let front = tls_front(&rt, &pki, fake_addr(&fake), false);
    let base = format!("https://127.0.0.1:{}/", front.addr.port());
    let wd = workdir(4);
    portfolio(&wd, "segunda.csv", 4, "SEG-");
    wd.write("ca.pem", &pki.ca_pem);

    // Untrusted: stops at once, nothing sent, a message that says what to do.
    let run = import(&wd, &base, &[]);
    assert_eq!(run.code, 3, "{run:?}");
    // At once: one try, or the two after which a server that cannot be
    // reached stops the run; never a retry per row or a backoff.
    let tries = front.connections.load(Ordering::SeqCst);
    assert!((1..=2).contains(&tries), "{tries} connections: {run:?}");
    for phrase in [
        "certificate",
        "not trusted",
        "UnknownIssuer",
        "--ca-cert",
        "TLS-inspecting proxies",
        "docs/operations.md",
    ] {
        assert!(
            run.stderr.contains(phrase),
            "stderr lacks {phrase:?}: {run:?}"
        );
    }
    assert_eq!(statuses(&wd).get("not_sent"), Some(&4));
    assert_eq!(fake.stats().requests, 0);

    // --ca-cert: trusted.
    let run = import(&wd, &base, &["--ca-cert", "ca.pem", "--resume"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(statuses(&wd).get("created"), Some(&4));

    // The CA in SSL_CERT_FILE, as curl would take it.
    let out = wd
        .command(&[
            "import",
            "segunda.csv",
            "--mapping",
            "m.toml",
            "--server",
            &base,
            "--output",
            "segunda.results.csv",
        ])
        .env("WOLKVOX_TOKEN", TOKEN)
        .env("SSL_CERT_FILE", wd.path("ca.pem"))
        .output()
        .unwrap();
    let run = Run::from(out);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(fake.stats().inserts, 8);
    let ledger = fake.ledger();
    let mut ids: Vec<&str> = ledger
        .iter()
        .map(|e| e["obligation"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8, "an obligation was stored twice: {ledger:?}");
}

#[test]
fn a_ca_certificate_saved_by_notepad_is_trusted_and_a_variable_without_one_draws_a_warning() {
    let rt = runtime();
    let pki = private_pki(&["127.0.0.1", "localhost"]);
    let fake = FakeServer::start(FakeCrmOptions {
        token: TOKEN.into(),
        ..Default::default()
    });
    let front = tls_front(&rt, &pki, fake_addr(&fake), false);
    let base = format!("https://127.0.0.1:{}/", front.addr.port());
    let wd = workdir(2);
    // As Windows Notepad saves it: a byte order mark, CR LF line ends.
    let notepad = format!("\u{FEFF}{}", pki.ca_pem.replace('\n', "\r\n"));
    wd.write("ca-notepad.pem", &notepad);
    let run = import(&wd, &base, &["--ca-cert", "ca-notepad.pem"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(statuses(&wd).get("created"), Some(&2));

    // The same file in SSL_CERT_FILE.
    let send = |csv: &str, base: &str, var: &str, value: &std::ffi::OsStr| {
        let other = if var == "SSL_CERT_FILE" {
            "SSL_CERT_DIR"
        } else {
            "SSL_CERT_FILE"
        };
        let out = wd
            .command(&[
                "import",
                csv,
                "--mapping",
                "m.toml",
                "--server",
                base,
                "--output",
                &format!("{csv}.results.csv"),
            ])
            .env("WOLKVOX_TOKEN", TOKEN)
            .env(var, value)
            .env_remove(other)
            .output()
            .unwrap();
        Run::from(out)
    };
    portfolio(&wd, "segunda.csv", 2, "SEG-");
    let notepad = wd.path("ca-notepad.pem");
    let run = send("segunda.csv", &base, "SSL_CERT_FILE", notepad.as_os_str());
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.contains("SSL_CERT_FILE"), "{run:?}");
    assert_eq!(fake.stats().inserts, 4);

    // Variables that give no certificate: each is told, as a missing one
    // is (the warning comes whatever the server; the fake's plain HTTP
    // needs no certificate).
    let empty = wd.write("empty.pem", "");
    let words = wd.write(
        "words.pem",
        "\u{FEFF}Bag Attributes\r\n    friendlyName: Banco CA\r\n",
    );
    std::fs::create_dir(wd.path("certs")).unwrap();
    wd.write("certs/README", "the bank's CA goes here\n");
    let certs = wd.path("certs");
    let missing = wd.path("missing");
    let both = std::env::join_paths([&certs, &missing]).unwrap();
    let none = "holds no certificate";
    let unreadable = "cannot be read";
    // The variable, its value, and each path the warnings name with what
    // they say of it.
    type Told<'a> = Vec<(&'a std::path::Path, &'static str)>;
    let cases: Vec<(&str, std::ffi::OsString, Told)> = vec![
        (
            "SSL_CERT_FILE",
            wd.path("empty.pem").into(),
            vec![(&empty, none)],
        ),
        (
            "SSL_CERT_FILE",
            wd.path("words.pem").into(),
            vec![(&words, none)],
        ),
        (
            "SSL_CERT_FILE",
            missing.clone().into(),
            vec![(&missing, unreadable)],
        ),
        ("SSL_CERT_DIR", certs.clone().into(), vec![(&certs, none)]),
        // A list of folders, as curl and openssl take it: each is checked.
        (
            "SSL_CERT_DIR",
            both,
            vec![(&certs, none), (&missing, unreadable)],
        ),
    ];
    for (n, (var, value, told)) in cases.iter().enumerate() {
        let csv = format!("r{n}.csv");
        portfolio(&wd, &csv, 1, &format!("R{n}-"));
        let run = send(&csv, &fake.base_url(), var, value);
        assert_eq!(run.code, 0, "{var}={value:?}: {run:?}");
        for (path, words) in told {
            let warning = format!("{var} names {}, which {words}", path.display());
            assert!(run.stderr.contains(&warning), "{warning:?} not in {run:?}");
        }
    }
}

#[test]
fn https_proxy_reaches_the_crm_through_a_tls_inspecting_proxy_with_ca_cert() {
    let rt = runtime();
    let host = "crm0001.banco-ejemplo.invalid";
    let pki = private_pki(&[host]);
    let fake = FakeServer::start(FakeCrmOptions {
        token: TOKEN.into(),
        ..Default::default()
    });
    let TlsFront {
        addr: proxy, seen, ..
    } = tls_front(&rt, &pki, fake_addr(&fake), true);
    let wd = workdir(3);
    wd.write("ca.pem", &pki.ca_pem);
    let proxy_url = format!("http://{proxy}");
    let base = format!("https://{host}/");

    let run = Run::from(
        import_cmd(&wd, &base, &[])
            .env("HTTPS_PROXY", &proxy_url)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("--ca-cert"), "{run:?}");
    assert_eq!(fake.stats().requests, 0);

    let run = Run::from(
        import_cmd(&wd, &base, &["--ca-cert", "ca.pem", "--resume"])
            .env("HTTPS_PROXY", &proxy_url)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(statuses(&wd).get("created"), Some(&3));
    assert_eq!(fake.stats().inserts, 3);
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter()
            .all(|l| l.starts_with(&format!("CONNECT {host}:443 "))),
        "{seen:?}"
    );
    assert!(!seen.is_empty());
}

// ---------------------------------------------------------------------------
// 4. The process and its environment.

#[cfg(unix)]
#[test]
fn sighup_drains_like_sigterm_and_resume_finishes_exactly_once() {
    let fake = FakeServer::start(FakeCrmOptions {
        token: TOKEN.into(),
        latency: Duration::from_millis(5),
        ..Default::default()
    });
    let wd = workdir(300);
    let mut child = Running::spawn(import_cmd(&wd, &fake.base_url(), &[]));
    // Sending is under way: past start-up, with the signal handlers set.
    wait_until("20 obligations stored", || {
        assert!(child.is_running(), "ended early: {}", child.stderr());
        fake.stats().inserts >= 20
    });
    // No core dump of a process that holds the token.
    #[cfg(target_os = "linux")]
    {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
        let core = limits
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .unwrap();
        let fields: Vec<&str> = core.split_whitespace().collect();
        assert_eq!(&fields[4..6], ["0", "0"], "{core}");
    }
    child.signal(libc::SIGHUP);
    let run = child.wait();
    assert_eq!(run.code, 130, "{run:?}");
    // Said as it applies to a signal that no one typed.
    assert!(
        run.stderr.contains(
            "SIGHUP received; a second signal (SIGTERM, SIGHUP or Ctrl-C) leaves at once"
        ),
        "{run:?}"
    );
    assert!(!run.stderr.contains("press Ctrl-C again"), "{run:?}");
    let counts = statuses(&wd);
    let created = counts.get("created").copied().unwrap_or(0);
    assert!((20..300).contains(&created), "{counts:?}");
    assert_eq!(created + counts.get("not_sent").copied().unwrap_or(0), 300);
    assert_eq!(fake.stats().inserts as usize, created);

    let run = import(&wd, &fake.base_url(), &["--resume"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(fake.stats().inserts, 300);
    let ledger = fake.ledger();
    let mut ids: Vec<&str> = ledger
        .iter()
        .map(|e| e["obligation"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 300);
}

#[cfg(unix)]
#[test]
fn an_update_left_in_doubt_is_said_to_be_sent_again_and_is_not_looked_up() {
    let wd = workdir(2);
    let store = Arc::new(Store::default());
    let stall = Arc::new(AtomicBool::new(true));
    let puts = Arc::new(AtomicU64::new(0));
    let (s, st, p) = (store.clone(), stall.clone(), puts.clone());
    let server = StandIn::start(move |req| {
        if req.is_insert() {
            let id = s.insert(req);
            Store::created(&id)
        } else if req.method == "PUT" {
            p.fetch_add(1, Ordering::SeqCst);
            if st.load(Ordering::SeqCst) {
                Reply::Stall
            } else {
                Reply::Json(200, json!({"code": 200, "data": {"wolkvox_id": "same"}}))
            }
        } else {
            s.queries.fetch_add(1, Ordering::SeqCst);
            s.exact_query(req)
        }
    });
    let base = server.base();
    let run = import(&wd, &base, &["--mode", "sync"]);
    assert_eq!(run.code, 0, "{run:?}");

    // New balances: the updates leave, and the run dies while the server
    // holds them.
    let changed = wd.read("cartera.csv").replace(",100", ",300");
    wd.write("cartera.csv", changed);
    let child = Running::spawn(import_cmd(&wd, &base, &["--mode", "sync"]));
    wait_until("the updates to reach the server", || {
        puts.load(Ordering::SeqCst) >= 2
    });
    child.kill();

    stall.store(false, Ordering::SeqCst);
    let run = import(&wd, &base, &["--mode", "sync"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(
            "2 earlier updates' outcomes are unknown: they are not looked up; each update is sent again if its row still needs it"
        ),
        "{run:?}"
    );
    assert!(!run.stderr.contains("looked up before"), "{run:?}");
    assert_eq!(store.queries.load(Ordering::SeqCst), 0);
    assert_eq!(puts.load(Ordering::SeqCst), 4);
    assert_eq!(statuses(&wd).get("updated"), Some(&2));
}

/// A pipe whose reading end is already closed: every write to it fails.
#[cfg(unix)]
fn closed_pipe() -> Stdio {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe() writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors are ours; the reading end is closed once.
    unsafe {
        libc::close(fds[0]);
        Stdio::from(std::os::fd::OwnedFd::from_raw_fd(fds[1]))
    }
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_or_stderr_never_panics_and_the_exit_code_reflects_the_rows() {
    let wd = workdir(4);
    // One bad balance: the dry run's exit code is 1.
    wd.write(
        "mala.csv",
        "registro,obligacion,saldo\nR1,A1,10\nR1,A2,abc\nR1,A3,30\n",
    );
    let status = wd
        .command(&["import", "mala.csv", "--mapping", "m.toml", "--dry-run"])
        .stdout(closed_pipe())
        .stderr(closed_pipe())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    assert_eq!(read_results(&wd.path("mala.csv.results.csv")).len(), 3);

    let status = wd
        .command(&["inspect", "mala.csv"])
        .stdout(closed_pipe())
        .stderr(closed_pipe())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));

    // A real run, logs and summary into the void: exit 0, every row created.
    let fake = FakeServer::start(FakeCrmOptions {
        token: TOKEN.into(),
        ..Default::default()
    });
    let status = import_cmd(&wd, &fake.base_url(), &["-v"])
        .stdout(closed_pipe())
        .stderr(closed_pipe())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(statuses(&wd).get("created"), Some(&4));
    assert_eq!(fake.stats().inserts, 4);
}

#[test]
fn outputs_that_would_overwrite_an_input_or_a_foreign_file_are_refused_before_any_request() {
    let wd = workdir(3);
    let (server, store) = crm(
        |s, req, _| {
            let id = s.insert(req);
            Store::created(&id)
        },
        |s, req| s.exact_query(req),
    );
    let base = server.base();
    let mapping_before = wd.read("m.toml");

    let run = Run::from(
        wd.command(&[
            "import",
            "cartera.csv",
            "--mapping",
            "m.toml",
            "--server",
            &base,
            "-o",
            "m.toml",
        ])
        .env("WOLKVOX_TOKEN", TOKEN)
        .output()
        .unwrap(),
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("--output m.toml would overwrite the mapping file"),
        "{run:?}"
    );
    // Even --force does not let it replace the mapping.
    let run = import(&wd, &base, &["--force", "--rejects", "m.toml"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(wd.read("m.toml"), mapping_before);

    wd.write("notas.txt", "apuntes del equipo\n");
    let run = import(&wd, &base, &["--payloads", "notas.txt"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("notas.txt") && run.stderr.contains("not a payloads file"),
        "{run:?}"
    );
    assert_eq!(wd.read("notas.txt"), "apuntes del equipo\n");

    let run = import(&wd, &base, &["--rejects", "salida/rechazos.csv"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("--rejects") && run.stderr.contains("the folder salida does not exist"),
        "{run:?}"
    );
    // Not one request, not even the quota check, before those refusals.
    assert_eq!(store.requests.load(Ordering::SeqCst), 0);

    let run = import(&wd, &base, &["--timeout", "99999999999999999999"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--timeout"), "{run:?}");

    // Our own files are replaced without --force; a foreign one with it.
    let run = import(&wd, &base, &["--payloads", "notas.txt", "--force"]);
    assert_eq!(run.code, 0, "{run:?}");
    store.check(&read_results(&wd.path("results.csv")), true);
    let run = import(
        &wd,
        &base,
        &[
            "--payloads",
            "notas.txt",
            "--rejects",
            "rechazos.csv",
            "--resume",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(store.inserts.load(Ordering::SeqCst), 3);
}

// ---------------------------------------------------------------------------
// 5. Tokens hidden in plain sight, proxies that want credentials, servers
// that turn some connections away.

/// Every form a hidden token has been seen to take in an output, for the
/// token `tok-SECRET-123`: its middle, whole, with hidden characters (or
/// what shows them) between its letters, raw or escaped.
fn hidden_token_forms() -> Vec<String> {
    let mut forms = vec!["SECRET".to_string(), "secret".to_string()];
    for sep in [
        "\u{200B}", "\u{AD}", "\u{FFFD}", "\\u200b", "\\u00ad", "\\u200B",
    ] {
        forms.push(["S", "E", "C", "R"].join(sep));
    }
    forms
}

#[test]
fn a_token_split_by_hidden_characters_or_escaped_outside_json_is_hidden() {
    let token = "tok-SECRET-123";
    let wd = workdir(4);
    let (server, _store) = crm(
        move |_, req, _| {
            let spaced = |sep: &str| {
                token
                    .chars()
                    .map(String::from)
                    .collect::<Vec<_>>()
                    .join(sep)
            };
            match Store::key_of_insert(req).1.as_str() {
                // A zero-width space between its letters, JSON-escaped.
                "OB-1" => Reply::Raw(
                    400,
                    vec![],
                    format!(
                        r#"{{"code":400,"error":"BAD","msg":"Wolkvox-Token: {}"}}"#,
                        spaced("\\u200b")
                    )
                    .into_bytes(),
                ),
                // Soft hyphens, as raw UTF-8.
                "OB-2" => Reply::Json(
                    400,
                    json!({"code": 400, "error": "BAD", "msg": format!("Wolkvox-Token: {}", spaced("\u{AD}"))}),
                ),
                // A JSON body cut short: escapes no JSON reader decodes.
                "OB-3" => Reply::Raw(
                    400,
                    vec![],
                    br#"{"code":400,"msg":"Wolkvox-Token: \u0074ok-SECRET-123""#.to_vec(),
                ),
                _ => Reply::Raw(
                    400,
                    vec![("Content-Type", "text/plain".into())],
                    br"ERR Wolkvox-Token=\u0074\u006f\u006b-SECRET-123 end".to_vec(),
                ),
            }
        },
        |s, req| s.exact_query(req),
    );
    let run = import_with_token(
        &wd,
        &server.base(),
        &[
            "--concurrency",
            "1",
            "--payloads",
            "payloads.jsonl",
            "--rejects",
            "rejects.csv",
            "--report",
            "report.html",
            "-vv",
        ],
        token,
    );
    assert_eq!(run.code, 1, "every row failed, none in doubt: {run:?}");
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(results.len(), 4, "{run:?}");
    for r in &results {
        assert_eq!(r["status"], "failed", "{r:?}");
        assert!(r["error"].contains("[token hidden]"), "{r:?}");
    }
    for form in hidden_token_forms() {
        assert_nowhere(&wd, &run, &form);
    }
}

#[test]
fn a_proxy_that_answers_connect_with_407_stops_the_run_asking_for_its_credentials() {
    let rt = runtime();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let proxy = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = seen.clone();
    rt.spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let seen = s.clone();
            tokio::spawn(async move {
                let Some(line) = read_request_line(&mut tcp).await else {
                    return;
                };
                seen.lock().unwrap().push(line);
                let _ = tcp
                    .write_all(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                          Proxy-Authenticate: Basic realm=\"x\"\r\n\
                          Content-Length: 0\r\n\r\n",
                    )
                    .await;
            });
        }
    });
    let wd = workdir(3);
    // TEST-NET-1: never routed; only the proxy is ever reached.
    let run = Run::from(
        import_cmd(&wd, "https://192.0.2.10/", &[])
            .env("HTTPS_PROXY", format!("http://{proxy}"))
            .env_remove("https_proxy")
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy")
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr
            .contains("a proxy between this machine and the server asks for authentication"),
        "{run:?}"
    );
    assert!(run.stderr.contains("docs/operations.md"), "{run:?}");
    assert!(!run.stderr.contains("cannot reach the server"), "{run:?}");
    assert_eq!(statuses(&wd).get("not_sent"), Some(&3));
    let seen = seen.lock().unwrap();
    // At once: the quota check's tunnel, and no other.
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].starts_with("CONNECT 192.0.2.10:443 "), "{seen:?}");
}

/// A listener on a port below Linux's ephemeral range (32768 and up): a
/// port the relay closes and opens again must stay free while it is closed,
/// and any outgoing connection on the machine may be given an ephemeral
/// one, after which the relay could not listen on it again.
async fn quiet_port_listener() -> TcpListener {
    let start = std::process::id() % 10_000;
    for i in 0..10_000u32 {
        let port = 20_000 + (start + i * 7) % 10_000;
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port as u16)).await {
            return l;
        }
    }
    panic!("no free port between 20000 and 30000");
}

/// A relay in front of `backend` that is up for `up`, then down (its port
/// closed: connections are refused, and those it carried are cut) for
/// `down`, over and over. Returns its address and how many times it went
/// down.
fn flapping_relay(
    rt: &tokio::runtime::Runtime,
    backend: SocketAddr,
    up: Duration,
    down: Duration,
) -> (SocketAddr, Arc<AtomicU64>) {
    let first = rt.block_on(quiet_port_listener());
    let addr = first.local_addr().unwrap();
    let downs = Arc::new(AtomicU64::new(0));
    let d = downs.clone();
    rt.spawn(async move {
        let mut listener = Some(first);
        loop {
            let l = match listener.take() {
                Some(l) => l,
                None => match TcpListener::bind(addr).await {
                    Ok(l) => l,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                },
            };
            let mut carried = tokio::task::JoinSet::new();
            let until = tokio::time::sleep(up);
            tokio::pin!(until);
            loop {
                tokio::select! {
                    _ = &mut until => break,
                    Ok((mut front, _)) = l.accept() => {
                        carried.spawn(async move {
                            if let Ok(mut back) = TcpStream::connect(backend).await {
                                let _ = tokio::io::copy_bidirectional(&mut front, &mut back).await;
                            }
                        });
                    }
                }
            }
            drop(l);
            carried.abort_all();
            d.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(down).await;
        }
    });
    (addr, downs)
}

#[test]
fn a_server_that_refuses_some_connections_gets_every_row_once() {
    let rt = runtime();
    let fake = FakeServer::start(FakeCrmOptions {
        token: TOKEN.into(),
        latency: Duration::from_millis(20),
        ..Default::default()
    });
    let (relay, downs) = flapping_relay(
        &rt,
        fake_addr(&fake),
        Duration::from_millis(500),
        Duration::from_secs(1),
    );
    let rows = 40;
    let wd = workdir(rows);
    // Spaced out, so that the port often closes between requests (the
    // next write is refused) as well as during one (it is cut off, and
    // its look-up is refused).
    let run = import(&wd, &format!("http://{relay}/"), &["-vv", "--rate", "25/s"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(downs.load(Ordering::SeqCst) >= 2, "{run:?}");
    // Refused, and tried again.
    assert!(run.stderr.contains("DEBUG connection refused"), "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(statuses(&wd).get("created"), Some(&rows), "{results:?}");
    let mut ids: Vec<String> = fake
        .ledger()
        .iter()
        .map(|e| e["obligation"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let stored = ids.len();
    ids.dedup();
    assert_eq!((stored, ids.len()), (rows, rows));
    // A row's attempts are its requests: the summary's, less the quota
    // check; no refused connection among them.
    let attempts: u64 = results
        .iter()
        .map(|r| r["attempts"].parse::<u64>().unwrap())
        .sum();
    assert!(
        run.stderr.contains(&format!(", {} requests", attempts + 1)),
        "{attempts} attempts: {run:?}"
    );
}
