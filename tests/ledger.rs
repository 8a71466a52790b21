//! The ledger, end to end: the real binary against the fake CRM on
//! loopback, night after night on one ledger, under faults and SIGKILLs, two
//! imports at once, a full disk, a damaged ledger, the dry run's plan, the
//! `ledger` subcommand, and where the ledger lives by default.
//!
//! Each test is judged by what the fake CRM really holds (every stored POST
//! and PUT, in order), by its request counters, and by the results files read
//! as data. Every test passes its own temporary ledger.

mod common;

use common::{read_results, FakeServer, Run, Workdir};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};
use wolkvox_import::fake_crm::{FakeCrmOptions, FakeCrmStats};

const TOKEN: &str = "ledger-test-token";

const MAPPING: &str = r#"
[request]
operation = "cobranza"
[fields]
wolkvox_id = "registro"
id = "obligacion"
total_balance = { column = "saldo", type = "number" }
days_delay = { column = "mora", type = "integer" }
"#;

const VANISHED_HEADER: &str =
    "wolkvox_id,obligation_id,obligation_wolkvox_id,created_at,updated_at,last_seen_at";
const EXPORT_HEADER: &str = "server,operation,wolkvox_id,obligation_id,obligation_wolkvox_id,body_fingerprint,created_at,updated_at,last_seen_at";

fn fake_opts() -> FakeCrmOptions {
    FakeCrmOptions {
        token: TOKEN.into(),
        ..FakeCrmOptions::default()
    }
}

// ---------------------------------------------------------------------------
// Portfolios

/// (collections record, obligation id): how the CRM knows an obligation
/// within one server and operation.
type Key = (String, String);

/// One row of a portfolio file. `n` numbers the obligation; everything else
/// follows from it, except the balance, which changes from night to night.
#[derive(Clone, Debug)]
struct Obligation {
    n: usize,
    record: String,
    id: String,
    balance: String,
    delay: String,
    city: String,
}

impl Obligation {
    fn new(n: usize) -> Obligation {
        Obligation {
            n,
            record: format!("R{}", n % 5),
            id: format!("{n:06}"),
            balance: (1000 + n).to_string(),
            delay: (n % 90).to_string(),
            city: format!("Ciudad {}", n % 7),
        }
    }

    fn with_balance(mut self, balance: impl ToString) -> Obligation {
        self.balance = balance.to_string();
        self
    }

    fn key(&self) -> Key {
        (self.record.clone(), self.id.clone())
    }
}

fn obligations(range: std::ops::Range<usize>) -> Vec<Obligation> {
    range.map(Obligation::new).collect()
}

/// Banks export in an order of their own that changes from night to night,
/// so the same obligation sits on another row: a fixed permutation.
fn reordered(mut rows: Vec<Obligation>) -> Vec<Obligation> {
    rows.sort_by_key(|o| (o.n * 7919) % 1009);
    rows
}

/// Day 1: obligations 0..300.
fn day1() -> Vec<Obligation> {
    obligations(0..300)
}

/// How an obligation of day 2 differs from day 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// 0..50: no longer in the file.
    Vanished,
    /// 50..90: a new balance.
    Changed,
    /// 90..300: exactly as on day 1.
    Same,
    /// 300..360: not in day 1.
    New,
}

fn change(n: usize) -> Change {
    match n {
        0..50 => Change::Vanished,
        50..90 => Change::Changed,
        90..300 => Change::Same,
        _ => Change::New,
    }
}

/// Day 2: 50 obligations dropped, 40 balances changed, 210 as they were, 60
/// new, in another order than day 1.
fn day2() -> Vec<Obligation> {
    reordered(
        (50..360)
            .map(|n| {
                let o = Obligation::new(n);
                if change(n) == Change::Changed {
                    o.with_balance(1500 + n)
                } else {
                    o
                }
            })
            .collect(),
    )
}

/// The balance the CRM must hold for each obligation once `nights` were
/// imported in sync mode, the last one winning.
fn last_balances(nights: &[&[Obligation]]) -> BTreeMap<Key, String> {
    let mut m = BTreeMap::new();
    for night in nights {
        for o in *night {
            m.insert(o.key(), o.balance.clone());
        }
    }
    m
}

fn portfolio_csv(rows: &[Obligation]) -> String {
    let mut s = String::from("registro,obligacion,saldo,mora,ciudad\n");
    for o in rows {
        s.push_str(&format!(
            "{},{},{},{},{}\n",
            o.record, o.id, o.balance, o.delay, o.city
        ));
    }
    s
}

// ---------------------------------------------------------------------------
// A test's world: a folder, a fake CRM, and one ledger

struct Setup {
    wd: Workdir,
    fake: FakeServer,
    /// Deliberately in a folder that does not exist yet: a real run creates
    /// it, and the outputs live elsewhere.
    ledger: PathBuf,
}

impl Setup {
    fn new(opts: FakeCrmOptions) -> Setup {
        let wd = Workdir::new();
        wd.write("m.toml", MAPPING);
        let ledger = wd.path("keep/ledger.sqlite");
        Setup {
            wd,
            fake: FakeServer::start(opts),
            ledger,
        }
    }

    fn write(&self, name: &str, rows: &[Obligation]) -> PathBuf {
        self.wd.write(name, portfolio_csv(rows))
    }

    fn ledger_arg(&self) -> String {
        self.ledger.to_str().expect("UTF-8 temp path").to_string()
    }

    /// `import INPUT` against the fake, with this test's ledger, `--output
    /// OUTPUT` and `extra`, the token in the environment.
    fn import(&self, input: &str, output: &str, extra: &[&str]) -> Command {
        let base = self.fake.base_url();
        let ledger = self.ledger_arg();
        let mut args = vec![
            "import",
            input,
            "--mapping",
            "m.toml",
            "--server",
            &base,
            "--ledger",
            &ledger,
            "--output",
            output,
        ];
        args.extend_from_slice(extra);
        let mut cmd = self.wd.command(&args);
        cmd.env("WOLKVOX_TOKEN", TOKEN);
        cmd
    }

    fn run(&self, input: &str, output: &str, extra: &[&str]) -> Run {
        Run::from(self.import(input, output, extra).output().expect("run"))
    }

    /// A dry run with this test's ledger; no token, no server unless `extra`
    /// names one.
    fn dry_run(&self, input: &str, output: &str, extra: &[&str]) -> Run {
        let ledger = self.ledger_arg();
        let mut args = vec![
            "import",
            input,
            "--mapping",
            "m.toml",
            "--dry-run",
            "--ledger",
            &ledger,
            "--output",
            output,
        ];
        args.extend_from_slice(extra);
        self.wd.run(&args)
    }

    /// Starts an import in the background, its stderr kept in `LOG` in the
    /// folder (read back by `log`) so a pipe nobody reads cannot stall it.
    fn spawn(&self, input: &str, output: &str, extra: &[&str], log: &str) -> Child {
        let file = std::fs::File::create(self.wd.path(log)).expect("log file");
        self.import(input, output, extra)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn the import")
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.wd.path(name)).unwrap_or_default()
    }

    /// `wolkvox-import ledger ARGS --ledger LEDGER`.
    fn ledger_cmd(&self, args: &[&str]) -> Run {
        let ledger = self.ledger_arg();
        let mut all = vec!["ledger"];
        all.extend_from_slice(args);
        all.extend(["--ledger", &ledger]);
        self.wd.run(&all)
    }

    /// The server as the ledger keys it: the host of `--server`.
    fn server_key(&self) -> String {
        self.fake.local_addr().ip().to_string()
    }

    fn path_str(&self, name: &str) -> String {
        self.wd.path(name).to_str().expect("UTF-8").to_string()
    }
}

// ---------------------------------------------------------------------------
// What the CRM holds, and what was sent

/// One obligation as the fake CRM holds it.
#[derive(Debug, Default)]
struct Held {
    posts: u32,
    puts: u32,
    /// The id the CRM gave when it was first created.
    id: String,
    /// The fields after every stored POST and PUT, merged in order, as the
    /// fake itself does.
    fields: serde_json::Map<String, Value>,
}

impl Held {
    fn balance(&self) -> &str {
        self.fields
            .get("total_balance")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

fn crm_holds(fake: &FakeServer) -> BTreeMap<Key, Held> {
    let mut m: BTreeMap<Key, Held> = BTreeMap::new();
    for e in fake.ledger() {
        let key = (
            e["wolkvox_id"].as_str().expect("wolkvox_id").to_string(),
            e["obligation"].as_str().expect("obligation").to_string(),
        );
        let held = m.entry(key).or_default();
        let fields = e["body"]["fields"].as_object().cloned().unwrap_or_default();
        if e["method"] == "PUT" {
            held.puts += 1;
        } else {
            held.posts += 1;
            if held.posts == 1 {
                held.id = e["obligation_wolkvox_id"].as_str().unwrap().to_string();
            }
        }
        for (k, v) in fields {
            held.fields.insert(k, v);
        }
    }
    m
}

/// The CRM holds exactly the obligations of `expected`, each created once
/// and holding the balance given.
fn assert_crm_holds(fake: &FakeServer, expected: &BTreeMap<Key, String>) {
    let held = crm_holds(fake);
    let twice: Vec<_> = held
        .iter()
        .filter(|(_, h)| h.posts > 1)
        .map(|(k, h)| (k, h.posts))
        .collect();
    assert!(
        twice.is_empty(),
        "expected every obligation created once; created more than once (obligation, times): {twice:?}"
    );
    let missing: Vec<_> = expected.keys().filter(|k| !held.contains_key(*k)).collect();
    assert!(
        missing.is_empty(),
        "expected every obligation of the files in the CRM; missing: {missing:?}"
    );
    let unknown: Vec<_> = held.keys().filter(|k| !expected.contains_key(*k)).collect();
    assert!(
        unknown.is_empty(),
        "expected nothing in the CRM but the files' obligations; also there: {unknown:?}"
    );
    let stale: Vec<_> = expected
        .iter()
        .filter(|(k, balance)| held[*k].balance() != balance.as_str())
        .map(|(k, balance)| (k, balance, held[k].balance().to_string()))
        .collect();
    assert!(
        stale.is_empty(),
        "expected each obligation to hold its last balance; (obligation, expected, held): {stale:?}"
    );
}

/// What the fake counted between two snapshots.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sent {
    requests: u64,
    inserts: u64,
    updates: u64,
    queries: u64,
}

fn sent_since(fake: &FakeServer, before: &FakeCrmStats) -> Sent {
    let now = fake.stats();
    Sent {
        requests: now.requests - before.requests,
        inserts: now.inserts - before.inserts,
        updates: now.updates - before.updates,
        queries: now.queries - before.queries,
    }
}

const NOTHING: Sent = Sent {
    requests: 0,
    inserts: 0,
    updates: 0,
    queries: 0,
};

// ---------------------------------------------------------------------------
// Results files, as data

/// Checks a results file against the rows of its input: one line per row,
/// sorted, each naming its own obligation, with a status `allowed` for it;
/// a created, updated or unchanged row carries the id the CRM holds, an
/// unchanged one made no request, and the CRM holds nothing for a not_sent
/// one. Returns the status of each obligation.
fn check_results(
    path: &Path,
    rows: &[Obligation],
    held: &BTreeMap<Key, Held>,
    allowed: impl Fn(&Obligation) -> &'static [&'static str],
) -> BTreeMap<Key, String> {
    let results = read_results(path);
    assert_eq!(
        results.len(),
        rows.len(),
        "expected one line per data row in {}",
        path.display()
    );
    let mut statuses = BTreeMap::new();
    for (i, (r, o)) in results.iter().zip(rows).enumerate() {
        let row = i + 2;
        assert_eq!(
            r["row"],
            row.to_string(),
            "expected the lines of {} sorted by row",
            path.display()
        );
        let status = r["status"].as_str();
        let ok = allowed(o);
        assert!(
            ok.contains(&status),
            "{} row {row} (obligation {}): expected a status among {ok:?}, got {r:?}",
            path.display(),
            o.id
        );
        if status != "invalid" {
            assert_eq!(
                (r["wolkvox_id"].as_str(), r["obligation_id"].as_str()),
                (o.record.as_str(), o.id.as_str()),
                "{} row {row}: expected the row's own obligation",
                path.display()
            );
        }
        if matches!(status, "created" | "updated" | "unchanged") {
            let h = held.get(&o.key()).unwrap_or_else(|| {
                panic!(
                    "{} row {row} is {status}, so the CRM is expected to hold obligation {}",
                    path.display(),
                    o.id
                )
            });
            assert_eq!(
                r["obligation_wolkvox_id"],
                h.id,
                "{} row {row}: expected the id the CRM gave to obligation {}",
                path.display(),
                o.id
            );
            assert!(
                r["error"].is_empty(),
                "{} row {row}: expected no error on a row that ended well: {r:?}",
                path.display()
            );
        }
        if status == "not_sent" {
            assert!(
                !held.contains_key(&o.key()),
                "{} row {row} is not_sent, yet the CRM holds obligation {}",
                path.display(),
                o.id
            );
        }
        if status == "unchanged" {
            assert_eq!(
                r["attempts"],
                "0",
                "{} row {row}: expected no request for an unchanged row",
                path.display()
            );
        }
        if matches!(status, "created" | "updated") {
            assert_ne!(
                r["attempts"],
                "0",
                "{} row {row}: a row {status} must have taken a request",
                path.display()
            );
        }
        statuses.insert(o.key(), status.to_string());
    }
    statuses
}

fn tally<'a>(statuses: impl IntoIterator<Item = &'a String>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for s in statuses {
        *m.entry(s.clone()).or_default() += 1;
    }
    m
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(s, n)| (s.to_string(), *n)).collect()
}

/// Reads a CSV into rows keyed by column name, checking its header.
fn read_csv(path: &Path, header: &str) -> Vec<BTreeMap<String, String>> {
    let mut rdr =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let got: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        got.join(","),
        header,
        "expected the header of {}",
        path.display()
    );
    rdr.records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            got.iter()
                .cloned()
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// An RFC 3339 time in UTC, not before `since` (to the second) nor in the
/// future.
fn assert_utc_time(value: &str, what: &str, since: SystemTime) {
    let t = chrono::DateTime::parse_from_rfc3339(value)
        .unwrap_or_else(|e| panic!("{what}: expected an RFC 3339 time, got {value:?} ({e})"));
    assert_eq!(
        t.offset().local_minus_utc(),
        0,
        "{what}: expected UTC, got {value}"
    );
    let t = SystemTime::from(t);
    assert!(
        t + Duration::from_secs(1) >= since && t <= SystemTime::now() + Duration::from_secs(1),
        "{what}: expected a time during this test, got {value}"
    );
}

/// The last JSON log line, which must be the run's summary.
fn json_summary(run: &Run) -> serde_json::Map<String, Value> {
    let last = run.stderr.lines().last().unwrap_or_default();
    match serde_json::from_str::<Value>(last) {
        Ok(Value::Object(o)) if o.get("event") == Some(&Value::from("summary")) => o,
        _ => panic!("expected the last stderr line to be the JSON summary: {run:?}"),
    }
}

// ---------------------------------------------------------------------------
// Kills

/// Waits until the fake has stored `writes` inserts or updates more than
/// `base` (so the import is surely mid-run), then SIGKILLs it. Returns how
/// the import ended if it ended by itself first, `None` if it was killed.
fn kill_after_writes(
    child: &mut Child,
    fake: &FakeServer,
    base: u64,
    writes: u64,
) -> Option<ExitStatus> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        let s = fake.stats();
        if s.inserts + s.updates >= base + writes {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "expected the import to reach {writes} writes within a minute"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().expect("SIGKILL"); // no chance to clean up
    child.wait().expect("reap");
    settle(fake);
    None
}

/// Waits until the fake has been quiet for 50 ms, so a request a dead
/// import left in flight has landed (or never will) before the test counts
/// what the CRM holds or the next run starts; as the next night's run would.
fn settle(fake: &FakeServer) {
    let snapshot = || {
        let s = fake.stats();
        (s.requests, s.inserts, s.updates, s.queries)
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = snapshot();
    let mut quiet_since = Instant::now();
    while quiet_since.elapsed() < Duration::from_millis(50) {
        assert!(
            Instant::now() < deadline,
            "expected the fake CRM to go quiet once the import was gone"
        );
        std::thread::sleep(Duration::from_millis(5));
        let now = snapshot();
        if now != last {
            last = now;
            quiet_since = Instant::now();
        }
    }
}

/// Waits for the child's end, at most a minute.
fn wait_at_most_a_minute(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("expected the import to end within a minute; killed it");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// One night of the nightly job under kills: the job is SIGKILLed twice at
/// seeded moments among the night's `writes`, each kill followed by the
/// same command again (with `rerun` added), and the last run goes to its
/// end, exit 0.
fn night_with_kills(
    s: &Setup,
    rng: &mut SmallRng,
    input: &str,
    output: &str,
    writes: u64,
    rerun: &[&str],
) {
    let mut left = writes;
    for k in 0..2 {
        let at = rng.random_range(3..=(left / 2).max(4));
        let mut args = vec!["--mode", "sync"];
        if k > 0 {
            args.extend_from_slice(rerun);
        }
        let log = format!("{input}.kill{k}.log");
        let stats = s.fake.stats();
        let mut child = s.spawn(input, output, &args, &log);
        let ended = kill_after_writes(&mut child, &s.fake, stats.inserts + stats.updates, at);
        match ended {
            None => eprintln!("{input}: run {} SIGKILLed after {at} writes", k + 1),
            Some(status) => assert!(
                status.success(),
                "{input}: run {} ended by itself before {at} writes; expected exit 0, got {status}: {}",
                k + 1,
                s.log(&log)
            ),
        }
        left = left.saturating_sub(at);
    }
    let mut args = vec!["--mode", "sync"];
    args.extend_from_slice(rerun);
    let run = s.run(input, output, &args);
    assert_eq!(
        run.code, 0,
        "{input}: expected the run after the kills to finish the night with exit 0: {run:?}"
    );
}

// ---------------------------------------------------------------------------
// 1. The nightly story

#[test]
fn the_nightly_job_in_sync_mode_sends_only_what_is_new_or_changed() {
    let s = Setup::new(fake_opts());
    let (d1, d2) = (day1(), day2());
    s.write("dia1.csv", &d1);
    s.write("dia2.csv", &d2);

    // Day 1: everything is new.
    let before = s.fake.stats();
    let run = s.run(
        "dia1.csv",
        "dia1.results.csv",
        &["--mode", "sync", "--no-preflight"],
    );
    assert_eq!(run.code, 0, "day 1: expected exit 0: {run:?}");
    assert_eq!(
        sent_since(&s.fake, &before),
        Sent {
            requests: 300,
            inserts: 300,
            ..NOTHING
        },
        "day 1: expected one POST per row and nothing else"
    );
    assert!(
        s.ledger.is_file(),
        "expected a real run to create the ledger and its folder at {}",
        s.ledger.display()
    );
    assert!(
        run.stderr
            .contains(&format!("ledger: {}", s.ledger.display())),
        "expected the summary to name the ledger: {run:?}"
    );
    assert!(
        !run.stderr.contains("vanished:"),
        "day 1: expected no vanished line when nothing vanished: {run:?}"
    );
    let held = crm_holds(&s.fake);
    let st = check_results(&s.wd.path("dia1.results.csv"), &d1, &held, |_| &["created"]);
    assert_eq!(tally(st.values()), counts(&[("created", 300)]));

    // Day 2: 60 POSTs, 40 PUTs, no look-up, nothing for the 210 others.
    let before = s.fake.stats();
    let run = s.run(
        "dia2.csv",
        "dia2.results.csv",
        &[
            "--mode",
            "sync",
            "--no-preflight",
            "--vanished",
            "vanished.csv",
        ],
    );
    assert_eq!(run.code, 0, "day 2: expected exit 0: {run:?}");
    assert_eq!(
        sent_since(&s.fake, &before),
        Sent {
            requests: 100,
            inserts: 60,
            updates: 40,
            queries: 0
        },
        "day 2: expected exactly 60 POSTs and 40 PUTs, and no look-up"
    );
    let held = crm_holds(&s.fake);
    let st = check_results(
        &s.wd.path("dia2.results.csv"),
        &d2,
        &held,
        |o| match change(o.n) {
            Change::New => &["created"],
            Change::Changed => &["updated"],
            _ => &["unchanged"],
        },
    );
    assert_eq!(
        tally(st.values()),
        counts(&[("created", 60), ("updated", 40), ("unchanged", 210)]),
        "day 2: expected 60 created, 40 updated, 210 unchanged"
    );
    for r in read_results(&s.wd.path("dia2.results.csv")) {
        if r["status"] != "unchanged" {
            assert_eq!(
                r["attempts"], "1",
                "day 2: expected one request per row sent on a clean run: {r:?}"
            );
        }
    }
    let all = last_balances(&[&d1, &d2]);
    assert_crm_holds(&s.fake, &all);
    for (k, h) in &held {
        let n: usize = k.1.parse().unwrap();
        let puts = u32::from(change(n) == Change::Changed);
        assert_eq!(
            h.puts, puts,
            "obligation {k:?}: expected {puts} PUT (only changed balances are updated)"
        );
    }

    // The 50 that left the file: counted and listed, not touched.
    assert!(
        run.stderr.contains(
            "vanished: 50 obligations known for this server and operation are not in the file"
        ),
        "day 2: expected the summary to count 50 vanished obligations: {run:?}"
    );
    check_vanished(&s.wd.path("vanished.csv"), &held);

    // Day 3: the same file again; nothing to send, not even the quota check.
    let before = s.fake.stats();
    let run = s.run("dia2.csv", "dia3.results.csv", &["--mode", "sync"]);
    assert_eq!(run.code, 0, "day 3: expected exit 0: {run:?}");
    assert_eq!(
        sent_since(&s.fake, &before),
        NOTHING,
        "day 3: expected no request at all for an unchanged file"
    );
    let st = check_results(&s.wd.path("dia3.results.csv"), &d2, &held, |_| {
        &["unchanged"]
    });
    assert_eq!(tally(st.values()), counts(&[("unchanged", 310)]));

    // Day 2 again in the default mode: nothing is POSTed twice.
    let before = s.fake.stats();
    let run = s.run("dia2.csv", "dia2-insert.results.csv", &[]);
    assert_eq!(
        run.code, 0,
        "day 2 in insert mode: expected exit 0 (every row unchanged): {run:?}"
    );
    assert_eq!(
        sent_since(&s.fake, &before),
        NOTHING,
        "day 2 in insert mode: expected 0 inserts and no request at all"
    );
    check_results(&s.wd.path("dia2-insert.results.csv"), &d2, &held, |_| {
        &["unchanged"]
    });
    assert_crm_holds(&s.fake, &all);
}

/// The `--vanished` file lists exactly obligations 0..50 of day 1, with the
/// ids the CRM gave them.
fn check_vanished(path: &Path, held: &BTreeMap<Key, Held>) {
    let rows = read_csv(path, VANISHED_HEADER);
    let listed: BTreeSet<Key> = rows
        .iter()
        .map(|r| (r["wolkvox_id"].clone(), r["obligation_id"].clone()))
        .collect();
    let expected: BTreeSet<Key> = obligations(0..50).iter().map(Obligation::key).collect();
    assert_eq!(rows.len(), 50, "expected 50 lines in --vanished");
    assert_eq!(
        listed, expected,
        "expected --vanished to list the 50 obligations dropped from the file"
    );
    for r in &rows {
        let key = (r["wolkvox_id"].clone(), r["obligation_id"].clone());
        assert_eq!(
            r["obligation_wolkvox_id"], held[&key].id,
            "--vanished: expected the id the CRM gave to {key:?}"
        );
        for col in ["created_at", "updated_at", "last_seen_at"] {
            assert!(
                chrono::DateTime::parse_from_rfc3339(&r[col]).is_ok(),
                "--vanished {col}: expected an RFC 3339 time: {r:?}"
            );
        }
    }
}

#[test]
fn the_nightly_story_under_faults_and_kills_creates_nothing_twice_and_keeps_every_last_balance() {
    let s = Setup::new(FakeCrmOptions {
        fail_rate: 0.05,
        drop_after_commit_rate: 0.05,
        latency: Duration::from_millis(2),
        seed: 8,
        ..fake_opts()
    });
    let mut rng = SmallRng::seed_from_u64(20_240_611);
    let (d1, d2) = (day1(), day2());
    s.write("dia1.csv", &d1);
    s.write("dia2.csv", &d2);

    // Day 1: each kill followed by the very same command, as the next cron
    // job would run it.
    night_with_kills(&s, &mut rng, "dia1.csv", "dia1.results.csv", 300, &[]);
    let held = crm_holds(&s.fake);
    check_results(&s.wd.path("dia1.results.csv"), &d1, &held, |_| {
        &["created", "unchanged"]
    });
    assert_crm_holds(&s.fake, &last_balances(&[&d1]));

    // Day 2: each kill followed by --resume.
    night_with_kills(
        &s,
        &mut rng,
        "dia2.csv",
        "dia2.results.csv",
        100,
        &["--resume"],
    );
    let held = crm_holds(&s.fake);
    check_results(
        &s.wd.path("dia2.results.csv"),
        &d2,
        &held,
        |o| match change(o.n) {
            Change::New => &["created", "unchanged"],
            Change::Changed => &["updated", "unchanged"],
            _ => &["unchanged"],
        },
    );
    let all = last_balances(&[&d1, &d2]);
    assert_crm_holds(&s.fake, &all);
    for (k, h) in &held {
        let n: usize = k.1.parse().unwrap();
        if matches!(change(n), Change::Same | Change::Vanished) {
            assert_eq!(
                h.puts, 0,
                "obligation {k:?}: expected no PUT for an obligation whose balance never changed"
            );
        }
    }

    // Day 3: after all that, nothing is left in doubt and nothing to send.
    let before = s.fake.stats();
    let run = s.run(
        "dia2.csv",
        "dia3.results.csv",
        &["--mode", "sync", "--log-format", "json"],
    );
    assert_eq!(run.code, 0, "day 3: expected exit 0: {run:?}");
    assert_eq!(
        sent_since(&s.fake, &before),
        NOTHING,
        "day 3: expected no request (no write, no look-up, no quota check)"
    );
    check_results(&s.wd.path("dia3.results.csv"), &d2, &held, |_| {
        &["unchanged"]
    });
    let summary = json_summary(&run);
    assert_eq!(
        summary.get("unchanged"),
        Some(&Value::from(310)),
        "day 3: expected 310 unchanged in the JSON summary: {summary:?}"
    );
    assert_eq!(
        summary.get("vanished"),
        Some(&Value::from(50)),
        "day 3: expected 50 vanished in the JSON summary: {summary:?}"
    );
    assert_eq!(
        summary.get("ledger").and_then(Value::as_str),
        Some(s.ledger_arg().as_str()),
        "day 3: expected the ledger's path in the JSON summary: {summary:?}"
    );

    // Day 2 again in the default mode.
    let before = s.fake.stats();
    let run = s.run("dia2.csv", "dia2-insert.results.csv", &[]);
    assert_eq!(
        run.code, 0,
        "day 2 in insert mode: expected exit 0: {run:?}"
    );
    assert_eq!(
        sent_since(&s.fake, &before),
        NOTHING,
        "day 2 in insert mode: expected 0 inserts and no request"
    );
    assert_crm_holds(&s.fake, &all);

    let check = s.ledger_cmd(&["check"]);
    assert_eq!(
        check.code, 0,
        "expected `ledger check` to find the ledger sound with nothing in doubt: {check:?}"
    );
}

#[test]
fn insert_mode_never_posts_a_known_obligation_again() {
    let s = Setup::new(fake_opts());
    let (d1, d2) = (day1(), day2());
    s.write("dia1.csv", &d1);
    s.write("dia2.csv", &d2);
    let run = s.run("dia1.csv", "dia1.results.csv", &["--no-preflight"]);
    assert_eq!(run.code, 0, "day 1: expected exit 0: {run:?}");

    let before = s.fake.stats();
    let run = s.run("dia2.csv", "dia2.results.csv", &["--no-preflight"]);
    assert_eq!(
        run.code, 1,
        "expected exit 1: the 40 changed obligations cannot be inserted again: {run:?}"
    );
    assert_eq!(
        sent_since(&s.fake, &before),
        Sent {
            requests: 60,
            inserts: 60,
            ..NOTHING
        },
        "expected only the 60 new obligations POSTed"
    );
    let held = crm_holds(&s.fake);
    let st = check_results(
        &s.wd.path("dia2.results.csv"),
        &d2,
        &held,
        |o| match change(o.n) {
            Change::New => &["created"],
            Change::Changed => &["failed"],
            _ => &["unchanged"],
        },
    );
    assert_eq!(
        tally(st.values()),
        counts(&[("created", 60), ("failed", 40), ("unchanged", 210)])
    );
    for r in read_results(&s.wd.path("dia2.results.csv")) {
        if r["status"] == "failed" {
            let key = (r["wolkvox_id"].clone(), r["obligation_id"].clone());
            assert_eq!(
                r["attempts"], "0",
                "expected no request for a known obligation: {r:?}"
            );
            assert_eq!(
                r["obligation_wolkvox_id"], held[&key].id,
                "expected the id the CRM holds on a known obligation: {r:?}"
            );
            assert!(
                r["error"].contains("--mode sync"),
                "expected the error to point to --mode sync: {r:?}"
            );
        }
    }
    // Day 1's balances are still there: insert mode never updates.
    assert_crm_holds(&s.fake, &last_balances(&[&d1, &obligations(300..360)]));
}

#[test]
fn a_lost_ledger_is_rebuilt_by_upsert_without_a_duplicate() {
    let s = Setup::new(fake_opts());
    let rows = obligations(0..20);
    s.write("cartera.csv", &rows);
    let run = s.run("cartera.csv", "first.csv", &["--no-preflight"]);
    assert_eq!(run.code, 0, "expected exit 0: {run:?}");

    // The ledger is lost; a new one learns what the CRM holds.
    let lost = Setup {
        ledger: s.wd.path("new/ledger.sqlite"),
        ..s
    };
    let before = lost.fake.stats();
    let run = lost.run(
        "cartera.csv",
        "upsert.csv",
        &["--mode", "upsert", "--no-preflight"],
    );
    assert_eq!(run.code, 0, "upsert: expected exit 0: {run:?}");
    assert_eq!(
        sent_since(&lost.fake, &before),
        Sent {
            requests: 40,
            inserts: 0,
            updates: 20,
            queries: 20
        },
        "upsert on an empty ledger: expected a look-up and a PUT per obligation, no POST"
    );
    let held = crm_holds(&lost.fake);
    check_results(&lost.wd.path("upsert.csv"), &rows, &held, |_| &["updated"]);

    let before = lost.fake.stats();
    let run = lost.run("cartera.csv", "sync.csv", &["--mode", "sync"]);
    assert_eq!(run.code, 0, "sync after upsert: expected exit 0: {run:?}");
    assert_eq!(
        sent_since(&lost.fake, &before),
        NOTHING,
        "expected the answers remembered: no request on the next run"
    );
    check_results(&lost.wd.path("sync.csv"), &rows, &held, |_| &["unchanged"]);
    assert_crm_holds(&lost.fake, &last_balances(&[&rows]));
}

// ---------------------------------------------------------------------------
// 2. Two imports at once

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// Starts two imports of the same file on one ledger at the same instant
/// (both children started before either is waited for), with outputs
/// `out_a` and `out_b`. One must run, the other refuse at once.
fn two_at_once(out_a: &str, out_b: &str) {
    let rows = obligations(0..80);
    // 40 rounds of 25 ms on two slots: the winner holds the ledger for a
    // second, far longer than the other takes to start.
    let s = Setup::new(FakeCrmOptions {
        latency: Duration::from_millis(25),
        ..fake_opts()
    });
    s.write("cartera.csv", &rows);
    let spawn = |out: &str| {
        s.import("cartera.csv", out, &[])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (a, b) = (spawn(out_a), spawn(out_b));
    let (pid_a, pid_b) = (a.id(), b.id());
    let run_a = Run::from(a.wait_with_output().unwrap());
    let run_b = Run::from(b.wait_with_output().unwrap());
    let (winner_pid, winner_out, loser, loser_out) = match (run_a.code, run_b.code) {
        (0, 2) => (pid_a, out_a, &run_b, out_b),
        (2, 0) => (pid_b, out_b, &run_a, out_a),
        _ => panic!(
            "expected one import to exit 0 and the other 2, got {} and {}\n--- first: {run_a:?}\n--- second: {run_b:?}",
            run_a.code, run_b.code
        ),
    };
    assert!(
        loser.stderr.contains("another import holds the ledger"),
        "expected the refused import to say another import holds the ledger: {loser:?}"
    );
    assert!(
        loser.stderr.contains(&s.ledger_arg()),
        "expected the refusal to name the ledger: {loser:?}"
    );
    assert!(
        loser.stderr.contains(&format!("pid {winner_pid}")),
        "expected the refusal to name the holder's pid {winner_pid}: {loser:?}"
    );
    if let Some(host) = hostname() {
        assert!(
            loser.stderr.contains(&format!("on {host}")),
            "expected the refusal to name the holder's host {host}: {loser:?}"
        );
    }
    assert_crm_holds(&s.fake, &last_balances(&[&rows]));
    assert_eq!(
        s.fake.stats().requests,
        81,
        "expected the winner's 80 POSTs and one quota check, nothing from the refused import"
    );
    let held = crm_holds(&s.fake);
    let st = check_results(&s.wd.path(winner_out), &rows, &held, |_| &["created"]);
    assert_eq!(tally(st.values()), counts(&[("created", 80)]));
    if loser_out != winner_out {
        assert!(
            !s.wd.path(loser_out).exists(),
            "expected the refused import to write no results file: {loser:?}"
        );
    }

    // Later, the same import sends nothing new.
    let before = s.fake.stats();
    let run = s.run("cartera.csv", "later.csv", &[]);
    assert_eq!(run.code, 0, "later run: expected exit 0: {run:?}");
    assert_eq!(
        sent_since(&s.fake, &before),
        NOTHING,
        "later run: expected no request"
    );
    check_results(&s.wd.path("later.csv"), &rows, &held, |_| &["unchanged"]);
}

#[test]
fn two_imports_started_together_on_the_same_output_send_each_obligation_once() {
    two_at_once("results.csv", "results.csv");
}

#[test]
fn two_imports_started_together_on_different_outputs_sharing_a_ledger_send_each_obligation_once() {
    two_at_once("a.results.csv", "b.results.csv");
}

// ---------------------------------------------------------------------------
// 3. Killed twice, outputs deleted

#[test]
fn killed_twice_then_every_output_deleted_a_plain_rerun_leaves_each_obligation_once() {
    let s = Setup::new(FakeCrmOptions {
        latency: Duration::from_millis(2),
        drop_after_commit_rate: 0.03,
        seed: 17,
        ..fake_opts()
    });
    let rows = obligations(0..300);
    s.write("cartera.csv", &rows);
    let out = s.wd.path("out");
    std::fs::create_dir(&out).unwrap();
    // The outputs in their own folder, the ledger elsewhere.
    let args = [
        "--payloads",
        "out/payloads.jsonl",
        "--rejects",
        "out/rejects.csv",
    ];
    for (k, writes) in [(1, 60), (2, 90)] {
        let log = format!("kill{k}.log");
        let stats = s.fake.stats();
        let mut child = s.spawn("cartera.csv", "out/results.csv", &args, &log);
        let ended = kill_after_writes(&mut child, &s.fake, stats.inserts + stats.updates, writes);
        assert!(
            ended.is_none(),
            "expected run {k} to be killed mid-run, but it ended by itself ({ended:?}): {}",
            s.log(&log)
        );
    }
    let stored = s.fake.ledger().len();
    assert!(
        (150..300).contains(&stored),
        "expected the two killed runs to have stored between 150 and 299 obligations, got {stored}"
    );

    // The results file and everything beside it are gone.
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::create_dir(&out).unwrap();

    let before = s.fake.stats();
    let run = s.run("cartera.csv", "out/results.csv", &args);
    assert_eq!(run.code, 0, "expected the plain rerun to exit 0: {run:?}");
    assert_eq!(
        sent_since(&s.fake, &before).inserts as usize,
        300 - stored,
        "expected only the obligations the killed runs had not stored to be POSTed"
    );
    assert_crm_holds(&s.fake, &last_balances(&[&rows]));
    let held = crm_holds(&s.fake);
    let st = check_results(&s.wd.path("out/results.csv"), &rows, &held, |_| {
        &["created", "unchanged"]
    });
    let t = tally(st.values());
    assert!(
        t.get("unchanged").copied().unwrap_or(0) > 0 && t.get("created").copied().unwrap_or(0) > 0,
        "expected rows the killed runs created to be unchanged and the rest created: {t:?}"
    );

    // And a further run sends nothing at all.
    let before = s.fake.stats();
    let run = s.run("cartera.csv", "out/results.csv", &args);
    assert_eq!(run.code, 0, "further run: expected exit 0: {run:?}");
    assert_eq!(
        sent_since(&s.fake, &before),
        NOTHING,
        "further run: expected no request"
    );
    check_results(&s.wd.path("out/results.csv"), &rows, &held, |_| {
        &["unchanged"]
    });
}

// ---------------------------------------------------------------------------
// 4. Disk full

/// A tmpfs mounted for the life of this value; unmounted when dropped, even
/// when the test fails.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(Tmpfs {
                dir: dir.to_path_buf(),
            })
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    /// Fills the file system to the last byte with one file, returned.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.dir.join("filler");
        let mut f = std::fs::File::create(&path).expect("create filler");
        let block = vec![0xA5u8; 1 << 20];
        let mut len = block.len();
        loop {
            match f.write(&block[..len]) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => {
                    if len == 1 {
                        break;
                    }
                    len = (len / 2).max(1);
                }
                Err(e) => panic!("filling {}: {e}", path.display()),
            }
        }
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Busy: detach it now, the kernel frees it when the last user goes.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

fn says_disk_full(stderr: &str) -> bool {
    let s = stderr.to_lowercase();
    s.contains("no space left on device") || s.contains("database or disk is full")
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_stops_sending_with_exit_3_and_resume_completes_exactly_once() {
    let rows = obligations(0..3000);
    let mut s = Setup::new(FakeCrmOptions {
        latency: Duration::from_millis(1),
        ..fake_opts()
    });
    s.write("cartera.csv", &rows);
    let disk = s.wd.path("disk");
    // Declared after `s`, so it is unmounted before the folder is removed.
    let tmpfs = match Tmpfs::mount(&disk, "32m") {
        Ok(t) => t,
        Err(why) => {
            // The binary offers no injected write failure, so there is no
            // other honest way to run this test. CI runs as root: there a
            // skip would hide the guarantee, so it fails instead.
            assert!(
                std::env::var_os("CI").is_none(),
                "cannot mount a tmpfs in CI ({why}): the full-disk guarantee went untested"
            );
            eprintln!(
                "notice: SKIPPED a_full_disk_stops_sending_with_exit_3_and_resume_completes_exactly_once: \
                 cannot mount a tmpfs ({why}); it needs root (as in CI)"
            );
            return;
        }
    };

    // Full before the first request: nothing is sent, exit 2.
    let filler = tmpfs.fill();
    let early = Setup {
        ledger: disk.join("early.sqlite"),
        ..s
    };
    let run = early.run("cartera.csv", "early.results.csv", &[]);
    assert_eq!(
        run.code, 2,
        "a full disk before the first request: expected exit 2: {run:?}"
    );
    assert!(
        run.stderr.contains(&early.ledger_arg()) && says_disk_full(&run.stderr),
        "expected the message to name the ledger and the cause: {run:?}"
    );
    assert_eq!(
        early.fake.stats().requests,
        0,
        "a full disk before the first request: expected nothing sent"
    );
    std::fs::remove_file(&filler).unwrap();
    s = Setup {
        ledger: disk.join("ledger.sqlite"),
        ..early
    };

    // Full mid-run: the disk fills once sending is well under way.
    let log = "full.log";
    let mut child = s.spawn("cartera.csv", "results.csv", &[], log);
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.fake.stats().inserts < 100 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "expected the import still running at 100 inserts: {}",
            s.log(log)
        );
        assert!(
            Instant::now() < deadline,
            "expected 100 inserts within a minute"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let filler = tmpfs.fill();
    let status = wait_at_most_a_minute(&mut child);
    settle(&s.fake);
    let stderr = s.log(log);
    assert_eq!(
        status.code(),
        Some(3),
        "a full disk after sending began: expected exit 3: {stderr}"
    );
    assert!(
        stderr.contains(&s.ledger_arg()),
        "expected the message to name the ledger: {stderr}"
    );
    assert!(
        says_disk_full(&stderr),
        "expected the message to give the cause (no space left on device): {stderr}"
    );
    assert!(
        stderr.contains("--resume"),
        "expected the message to say that --resume carries on: {stderr}"
    );
    let stored = s.fake.ledger().len();
    assert!(
        stored < rows.len(),
        "expected sending to stop, yet all {stored} obligations were sent"
    );
    let held = crm_holds(&s.fake);
    assert!(
        held.values().all(|h| h.posts == 1),
        "expected no obligation created twice"
    );
    let st = check_results(&s.wd.path("results.csv"), &rows, &held, |_| {
        &["created", "not_sent", "uncertain"]
    });
    let t = tally(st.values());
    assert!(
        t.get("not_sent").copied().unwrap_or(0) > 0,
        "expected the rows not yet sent to be not_sent: {t:?}"
    );

    // Space is freed; --resume finishes the job, each obligation once.
    std::fs::remove_file(&filler).unwrap();
    let before = s.fake.stats();
    let run = s.run("cartera.csv", "results.csv", &["--resume"]);
    assert_eq!(
        run.code, 0,
        "--resume after freeing space: expected exit 0: {run:?}"
    );
    assert_eq!(
        sent_since(&s.fake, &before).inserts as usize,
        rows.len() - stored,
        "--resume: expected only the obligations not yet stored to be POSTed"
    );
    assert_crm_holds(&s.fake, &last_balances(&[&rows]));
    let held = crm_holds(&s.fake);
    let st = check_results(&s.wd.path("results.csv"), &rows, &held, |_| &["created"]);
    assert_eq!(tally(st.values()), counts(&[("created", rows.len())]));
    drop(tmpfs);
}

// ---------------------------------------------------------------------------
// 5. The dry run reads the ledger, never writes it

/// The ledger's bytes and mtime, and those of its write-ahead log if any:
/// everything that holds its content.
fn ledger_snapshot(ledger: &Path) -> Vec<(PathBuf, Vec<u8>, SystemTime)> {
    let mut wal = ledger.as_os_str().to_owned();
    wal.push("-wal");
    [ledger.to_path_buf(), PathBuf::from(wal)]
        .into_iter()
        .filter(|p| p.exists())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
            (p, bytes, mtime)
        })
        .collect()
}

#[test]
fn a_dry_run_plans_from_the_ledger_and_never_writes_it() {
    let s = Setup::new(fake_opts());
    let d1 = day1();
    s.write("dia1.csv", &d1);
    // Day 2 with three rows local validation refuses.
    let mut plan = day2();
    for (at, n) in [(5, 900), (100, 901), (250, 902)] {
        plan.insert(at, Obligation::new(n).with_balance("abc"));
    }
    s.write("dia2.csv", &plan);

    // No ledger yet: the dry run creates none, nor its folder.
    let dry = s.dry_run("dia1.csv", "dry0.csv", &[]);
    assert_eq!(dry.code, 0, "expected exit 0 for a valid file: {dry:?}");
    assert!(
        !s.ledger.parent().unwrap().exists(),
        "expected a dry run to create no ledger (nor its folder) at {}",
        s.ledger.display()
    );
    assert!(
        !s.wd.path("ledger.sqlite").exists() && !s.wd.path("state").exists(),
        "expected a dry run to create no ledger anywhere"
    );

    let run = s.run(
        "dia1.csv",
        "dia1.results.csv",
        &["--mode", "sync", "--no-preflight"],
    );
    assert_eq!(run.code, 0, "day 1: expected exit 0: {run:?}");
    let snapshot = ledger_snapshot(&s.ledger);
    assert!(
        !snapshot.is_empty(),
        "expected the real run to leave a ledger"
    );
    let before = s.fake.stats();

    // The server from --server.
    let base = s.fake.base_url();
    let dry = s.dry_run(
        "dia2.csv",
        "plan-sync.csv",
        &["--mode", "sync", "--server", &base],
    );
    assert_eq!(
        dry.code, 1,
        "expected exit 1: three rows are invalid: {dry:?}"
    );
    assert!(
        dry.stderr.contains(
            "plan (sync mode): 60 new, 40 changed, 210 unchanged, 3 invalid; a real run would make about 100 requests"
        ),
        "expected the sync plan line with 60/40/210/3 and 100 requests: {dry:?}"
    );

    // Without a server, the only one the ledger knows; the default mode.
    let dry = s.dry_run("dia2.csv", "plan-insert.csv", &[]);
    assert_eq!(
        dry.code, 1,
        "expected exit 1: three rows are invalid: {dry:?}"
    );
    assert!(
        dry.stderr.contains(
            "plan (insert mode): 60 new, 40 changed, 210 unchanged, 3 invalid; a real run would make about 60 requests"
        ),
        "expected the insert plan line: the 40 changed cost no request in insert mode: {dry:?}"
    );
    assert!(
        dry.stderr.contains(
            "40 changed obligations are in the CRM already: insert mode leaves them as they are, and a real run marks their rows failed; --mode sync would update them"
        ),
        "expected the plan to say what insert mode does with the changed: {dry:?}"
    );
    let sync = s.dry_run("dia2.csv", "plan-sync2.csv", &["--mode", "sync"]);
    assert!(
        !sync.stderr.contains("in the CRM already"),
        "sync mode updates the changed: {sync:?}"
    );

    // The same in the JSON summary.
    let dry = s.dry_run(
        "dia2.csv",
        "plan-json.csv",
        &["--mode", "sync", "--server", &base, "--log-format", "json"],
    );
    assert_eq!(dry.code, 1, "{dry:?}");
    let summary = json_summary(&dry);
    for (field, n) in [
        ("plan_new", 60),
        ("plan_changed", 40),
        ("plan_unchanged", 210),
        ("plan_requests", 100),
    ] {
        assert_eq!(
            summary.get(field),
            Some(&Value::from(n)),
            "expected {field} = {n} in the dry run's JSON summary: {summary:?}"
        );
    }
    assert_eq!(
        summary.get("ledger").and_then(Value::as_str),
        Some(s.ledger_arg().as_str()),
        "expected the ledger's path in the JSON summary: {summary:?}"
    );

    assert_eq!(
        sent_since(&s.fake, &before),
        NOTHING,
        "expected dry runs to send nothing"
    );
    let after = ledger_snapshot(&s.ledger);
    assert_eq!(
        after.len(),
        snapshot.len(),
        "expected the dry runs to leave the ledger's files as they were"
    );
    for ((path, bytes, mtime), (_, bytes2, mtime2)) in snapshot.iter().zip(&after) {
        assert!(
            bytes == bytes2,
            "expected the dry runs to leave {} byte for byte as it was",
            path.display()
        );
        assert_eq!(
            mtime,
            mtime2,
            "expected the dry runs not to touch {}",
            path.display()
        );
    }
}

// ---------------------------------------------------------------------------
// 6. A damaged ledger

/// Bytes that are no database at all.
fn garbage() -> Vec<u8> {
    let mut rng = SmallRng::seed_from_u64(6);
    let mut bytes = b"not a ledger, just noise\n".to_vec();
    bytes.extend((0..4071).map(|_| rng.random::<u8>()));
    bytes
}

/// A sound SQLite 3 database of some other program: one table,
/// `contactos`, no rows (1 KiB pages: page 1 holds the header and the
/// schema, page 2 the empty table).
fn foreign_sqlite() -> Vec<u8> {
    const PAGE: usize = 1024;
    fn varint(v: usize, out: &mut Vec<u8>) {
        assert!(v < 0x4000);
        if v < 0x80 {
            out.push(v as u8);
        } else {
            out.extend([0x80 | (v >> 7) as u8, (v & 0x7f) as u8]);
        }
    }
    let sql = "CREATE TABLE contactos(id INTEGER PRIMARY KEY, nombre TEXT, telefono TEXT)";
    // The schema row: type, name, tbl_name, rootpage, sql.
    let texts: [&str; 3] = ["table", "contactos", "contactos"];
    let mut types = Vec::new();
    let mut body = Vec::new();
    for t in texts {
        varint(2 * t.len() + 13, &mut types);
        body.extend_from_slice(t.as_bytes());
    }
    types.push(1); // an 8-bit integer: the table's root page
    body.push(2);
    varint(2 * sql.len() + 13, &mut types);
    body.extend_from_slice(sql.as_bytes());
    let mut payload = Vec::new();
    varint(types.len() + 1, &mut payload);
    payload.extend(types);
    payload.extend(body);
    let mut cell = Vec::new();
    varint(payload.len(), &mut cell);
    varint(1, &mut cell); // rowid
    cell.extend(payload);

    let mut db = vec![0u8; 2 * PAGE];
    let be32 =
        |db: &mut Vec<u8>, at: usize, v: u32| db[at..at + 4].copy_from_slice(&v.to_be_bytes());
    db[..16].copy_from_slice(b"SQLite format 3\0");
    db[16..18].copy_from_slice(&(PAGE as u16).to_be_bytes());
    db[18..24].copy_from_slice(&[1, 1, 0, 64, 32, 32]);
    be32(&mut db, 24, 1); // change counter
    be32(&mut db, 28, 2); // pages
    be32(&mut db, 40, 1); // schema cookie
    be32(&mut db, 44, 4); // schema format
    be32(&mut db, 56, 1); // UTF-8
    be32(&mut db, 92, 1); // version-valid-for
    be32(&mut db, 96, 3_045_000);
    let start = PAGE - cell.len();
    db[start..PAGE].copy_from_slice(&cell);
    let start16 = (start as u16).to_be_bytes();
    // Page 1: a leaf table b-tree with one cell, after the file header.
    db[100..108].copy_from_slice(&[0x0d, 0, 0, 0, 1, start16[0], start16[1], 0]);
    db[108..110].copy_from_slice(&start16);
    // Page 2: an empty leaf table b-tree.
    let end16 = (PAGE as u16).to_be_bytes();
    db[PAGE..PAGE + 8].copy_from_slice(&[0x0d, 0, 0, 0, 0, end16[0], end16[1], 0]);
    db
}

#[test]
fn a_damaged_ledger_stops_the_run_before_anything_is_sent_and_is_left_as_it_was() {
    for (what, bytes) in [
        ("garbage bytes", garbage()),
        ("another program's SQLite database", foreign_sqlite()),
    ] {
        let s = Setup::new(fake_opts());
        s.write("cartera.csv", &obligations(0..20));
        std::fs::create_dir_all(s.ledger.parent().unwrap()).unwrap();
        std::fs::write(&s.ledger, &bytes).unwrap();

        for mode in ["insert", "sync"] {
            let run = s.run("cartera.csv", "results.csv", &["--mode", mode]);
            assert_eq!(
                run.code, 2,
                "{what}, {mode} mode: expected exit 2 before anything is sent: {run:?}"
            );
            assert!(
                run.stderr.contains(&s.ledger_arg()),
                "{what}: expected the message to name the ledger: {run:?}"
            );
        }
        assert_eq!(
            s.fake.stats().requests,
            0,
            "{what}: expected no request at all, not even the quota check"
        );
        let check = s.ledger_cmd(&["check"]);
        assert_eq!(
            check.code, 2,
            "{what}: expected `ledger check` to exit 2 on a damaged ledger: {check:?}"
        );
        assert!(
            std::fs::read(&s.ledger).unwrap() == bytes,
            "{what}: expected the file left byte for byte as it was"
        );
    }
}

/// A ledger that was written, then emptied (as a full disk or a careless
/// copy leaves it) or damaged on a page the run might only reach halfway:
/// refused before anything is sent, never taken for a new ledger (which
/// would send every obligation again).
#[test]
fn an_emptied_or_damaged_ledger_is_refused_never_started_again() {
    let s = Setup::new(fake_opts());
    let rows = obligations(0..200);
    s.write("cartera.csv", &rows);
    let first = s.run("cartera.csv", "first.csv", &["--mode", "sync"]);
    assert_eq!(first.code, 0, "{first:?}");
    let good = std::fs::read(&s.ledger).unwrap();
    assert!(good.len() > 4 * 4096, "a ledger of several pages");

    let mut damaged = good.clone();
    // The last page: an index or table page no start-up query needs.
    let at = good.len() - 4096;
    damaged[at..at + 512].fill(0xA5);
    let emptied_sqlite = {
        let dir = s.wd.path("empty-db");
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.sqlite");
        let c = rusqlite::Connection::open(&p).unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        drop(c);
        std::fs::read(&p).unwrap()
    };
    for (what, bytes, says) in [
        ("an emptied file", Vec::new(), "holds no ledger"),
        (
            "an SQLite file with no tables",
            emptied_sqlite,
            "holds no ledger",
        ),
        ("a damaged page", damaged, "damaged"),
    ] {
        std::fs::write(&s.ledger, &bytes).unwrap();
        let before = s.fake.stats();
        let run = s.run("cartera.csv", "again.csv", &["--mode", "sync"]);
        assert_eq!(run.code, 2, "{what}: expected exit 2: {run:?}");
        assert!(
            run.stderr.contains(says),
            "{what}: expected \"{says}\": {run:?}"
        );
        assert!(
            run.stderr.contains(&s.ledger_arg()),
            "{what}: expected the ledger named: {run:?}"
        );
        assert_eq!(
            s.fake.stats().requests,
            before.requests,
            "{what}: expected no request"
        );
        assert!(
            std::fs::read(&s.ledger).unwrap() == bytes,
            "{what}: expected the file left as it was"
        );
        let check = s.ledger_cmd(&["check"]);
        assert_eq!(check.code, 2, "{what}: `ledger check`: {check:?}");
        let dry = s.dry_run("cartera.csv", "dry.csv", &["--mode", "sync"]);
        assert_eq!(dry.code, 2, "{what}: a dry run says so too: {dry:?}");
    }
    // Put back, the ledger works as before: nothing to send.
    std::fs::write(&s.ledger, &good).unwrap();
    let before = s.fake.stats();
    let run = s.run("cartera.csv", "restored.csv", &["--mode", "sync"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(sent_since(&s.fake, &before), NOTHING);
}

/// Starts a slow import (25 ms a request on two slots) and waits until
/// it holds the ledger and has begun sending.
fn slow_import_sending(s: &Setup, output: &str, log: &str) -> Child {
    let base = s.fake.stats().inserts;
    let child = s.spawn("cartera.csv", output, &[], log);
    common::wait_until("the import to send", || s.fake.stats().inserts >= base + 4);
    child
}

/// One import at a time per ledger, whatever the other is given: the same
/// file under another name (a symbolic link), or the ledger after its lock
/// file was removed.
#[cfg(unix)]
#[test]
fn a_second_import_is_refused_through_a_link_or_a_removed_lock_file() {
    let s = Setup::new(FakeCrmOptions {
        latency: Duration::from_millis(25),
        ..fake_opts()
    });
    let rows = obligations(0..160);
    s.write("cartera.csv", &rows);
    std::fs::create_dir_all(s.ledger.parent().unwrap()).unwrap();
    let alias = s.wd.path("alias.sqlite");
    std::os::unix::fs::symlink(&s.ledger, &alias).unwrap();
    let mut first = slow_import_sending(&s, "first.csv", "first.log");

    let through_link = |output: &str| {
        let base = s.fake.base_url();
        let mut cmd = s.wd.command(&[
            "import",
            "cartera.csv",
            "--mapping",
            "m.toml",
            "--server",
            &base,
            "--ledger",
            alias.to_str().unwrap(),
            "--output",
            output,
        ]);
        cmd.env("WOLKVOX_TOKEN", TOKEN);
        Run::from(cmd.output().unwrap())
    };
    let linked = through_link("linked.csv");
    assert_eq!(linked.code, 2, "through a link: {linked:?}");
    assert!(linked.stderr.contains("another import holds"), "{linked:?}");
    let lock = s.wd.path("keep/ledger.sqlite.lock");
    assert!(lock.exists(), "the lock file sits beside the ledger");
    std::fs::remove_file(&lock).unwrap();
    let unlocked = s.run("cartera.csv", "unlocked.csv", &[]);
    assert_eq!(unlocked.code, 2, "lock file removed: {unlocked:?}");
    assert!(
        unlocked.stderr.contains("another import holds"),
        "{unlocked:?}"
    );

    let status = wait_at_most_a_minute(&mut first);
    assert_eq!(status.code(), Some(0), "{}", s.log("first.log"));
    assert_crm_holds(&s.fake, &last_balances(&[&rows]));
    assert_eq!(s.fake.stats().inserts, 160, "each obligation once");
}

/// A ledger deleted during the run: the run cannot record what it sends,
/// so it stops (exit 3) and says so; what the CRM got is never sent twice
/// by the runs after it once the ledger is put back.
#[cfg(unix)]
#[test]
fn a_ledger_deleted_mid_run_stops_the_run_with_exit_3() {
    let s = Setup::new(FakeCrmOptions {
        latency: Duration::from_millis(25),
        ..fake_opts()
    });
    let rows = obligations(0..160);
    s.write("cartera.csv", &rows);
    let mut run = slow_import_sending(&s, "first.csv", "first.log");
    // Kept under another name, as a backup taken mid-run would be.
    let kept = s.wd.path("keep/kept.sqlite");
    std::fs::hard_link(&s.ledger, &kept).unwrap();
    std::fs::remove_file(&s.ledger).unwrap();
    let status = wait_at_most_a_minute(&mut run);
    let log = s.log("first.log");
    assert_eq!(status.code(), Some(3), "{log}");
    assert!(log.contains("deleted or replaced"), "{log}");
    assert!(
        s.fake.stats().inserts < 160,
        "expected the run to stop sending: {log}"
    );
    settle(&s.fake);
    // The ledger put back (the same file, every commit in it): the next
    // run creates the rest and nothing twice.
    std::fs::rename(&kept, &s.ledger).unwrap();
    let again = s.run("cartera.csv", "again.csv", &[]);
    // Every row ends well: those the ledger recorded are unchanged, those
    // in doubt are looked up, the rest created; none is refused as a
    // duplicate.
    assert_eq!(again.code, 0, "{again:?}");
    assert_crm_holds(&s.fake, &last_balances(&[&rows]));
}

/// With no ledger yet, or one that knows nothing of this server, a dry run
/// still gives the plan (every valid row new) and says why, and names the
/// ledger; `--vanished` in a dry run writes its list too.
#[test]
fn a_dry_run_plans_without_a_ledger_and_lists_the_vanished() {
    let s = Setup::new(fake_opts());
    s.write("noche1.csv", &obligations(0..30));
    s.write("noche2.csv", &obligations(0..20));
    let dry = s.dry_run("noche1.csv", "dry.csv", &["--mode", "upsert"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(
        dry.stderr
            .contains("plan (upsert mode): 30 new, 0 changed, 0 unchanged"),
        "{dry:?}"
    );
    assert_eq!(number_next_to(&dry.stderr, "about"), Some(60), "{dry:?}");
    assert!(dry.stderr.contains("does not exist yet"), "{dry:?}");
    assert!(
        dry.stderr.contains(&format!("ledger: {}", s.ledger_arg())),
        "{dry:?}"
    );
    assert!(!s.ledger.exists(), "a dry run never creates the ledger");

    let run = s.run("noche1.csv", "noche1.results.csv", &["--mode", "sync"]);
    assert_eq!(run.code, 0, "{run:?}");
    // Another server: the ledger knows nothing of it.
    let dry = s.dry_run(
        "noche1.csv",
        "dry.csv",
        &["--mode", "sync", "--server", "http://127.0.0.2:9/"],
    );
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stderr.contains("30 new"), "{dry:?}");
    assert!(dry.stderr.contains("knows nothing of 127.0.0.2"), "{dry:?}");
    // This server: 10 of yesterday's obligations left the file.
    let dry = s.dry_run(
        "noche2.csv",
        "dry.csv",
        &["--mode", "sync", "--vanished", "gone.csv"],
    );
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stderr.contains("20 unchanged"), "{dry:?}");
    let gone = read_csv(&s.wd.path("gone.csv"), VANISHED_HEADER);
    assert_eq!(gone.len(), 10, "{dry:?}");
}

/// `ledger runs` tells what a killed run did; `ledger check` during an
/// import does not call its requests in flight "in doubt"; `ledger backup`
/// copies the ledger whole while an import writes it.
#[test]
fn the_ledger_commands_during_and_after_an_import() {
    let s = Setup::new(FakeCrmOptions {
        latency: Duration::from_millis(25),
        ..fake_opts()
    });
    s.write("cartera.csv", &obligations(0..160));
    let mut killed = s.spawn("cartera.csv", "killed.csv", &[], "killed.log");
    assert!(
        kill_after_writes(&mut killed, &s.fake, 0, 20).is_none(),
        "expected the import still running after 20 writes: {}",
        s.log("killed.log")
    );
    let runs = s.ledger_cmd(&["runs"]);
    assert_eq!(runs.code, 0, "{runs:?}");
    let line = runs.stdout.lines().next().unwrap_or_default().to_string();
    assert!(line.contains("unfinished"), "{runs:?}");
    let created = number_next_to(&line, "created").unwrap_or(0);
    assert!(
        created >= 10,
        "expected the killed run's creations counted: {line}"
    );

    let mut live = slow_import_sending(&s, "live.csv", "live.log");
    let check = s.ledger_cmd(&["check"]);
    assert!(
        check.stdout.contains("an import is running now"),
        "{check:?}"
    );
    let backup = s.ledger_cmd(&["backup", &s.path_str("copy.sqlite")]);
    assert_eq!(backup.code, 0, "{backup:?}");
    let status = wait_at_most_a_minute(&mut live);
    assert_eq!(status.code(), Some(0), "{}", s.log("live.log"));
    // The copy is a ledger on its own: one file, readable by the commands.
    assert!(!s.wd.path("copy.sqlite-wal").exists());
    let copy =
        s.wd.run(&["ledger", "runs", "--ledger", &s.path_str("copy.sqlite")]);
    assert_eq!(copy.code, 0, "{copy:?}");
    // Taken while the second run was going: both runs, the newest still
    // unfinished (its record is in the write-ahead log, not yet in the
    // ledger file, so a plain copy of the file would have missed it).
    let lines: Vec<&str> = copy.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{copy:?}");
    assert!(lines[0].contains("unfinished"), "{copy:?}");
    // After the runs, nothing is in doubt: the live one settled the killed
    // one's requests.
    let check = s.ledger_cmd(&["check"]);
    assert_eq!(check.code, 0, "{check:?}");
    assert!(!check.stdout.contains("running now"), "{check:?}");
}

/// A ledger deleted while its write-ahead log stayed (killed mid-run, then
/// `rm ledger.sqlite`): the log may hold its last commits, and SQLite would
/// replay it into a new file, so the next import refuses and says what to
/// do. A ledger with a second name (a hard link) is refused too, and what a
/// killed import left while building a new ledger is cleaned up.
#[cfg(unix)]
#[test]
fn a_log_without_its_ledger_and_a_hard_linked_ledger_are_refused() {
    let s = Setup::new(FakeCrmOptions {
        latency: Duration::from_millis(25),
        ..fake_opts()
    });
    s.write("cartera.csv", &obligations(0..160));
    std::fs::create_dir_all(s.ledger.parent().unwrap()).unwrap();
    // Leftovers of an import killed while it built the ledger.
    let half = s.wd.path("keep/ledger.sqlite.new-4194301");
    std::fs::write(&half, b"half a ledger").unwrap();
    let mut killed = s.spawn("cartera.csv", "k.csv", &[], "k.log");
    assert!(kill_after_writes(&mut killed, &s.fake, 0, 10).is_none());
    assert!(!half.exists(), "the half-built ledger was removed");
    let wal = s.wd.path("keep/ledger.sqlite-wal");
    assert!(wal.exists(), "a killed import leaves its log");
    std::fs::remove_file(&s.ledger).unwrap();
    let before = s.fake.stats().requests;
    let run = s.run("cartera.csv", "again.csv", &["--mode", "sync"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("write-ahead log"), "{run:?}");
    assert_eq!(s.fake.stats().requests, before, "nothing sent");
    assert!(!s.ledger.exists(), "no new ledger was started");

    // Started again on purpose: the log and its -shm deleted.
    std::fs::remove_file(&wal).unwrap();
    let _ = std::fs::remove_file(s.wd.path("keep/ledger.sqlite-shm"));
    let run = s.run("cartera.csv", "fresh.csv", &["--mode", "upsert"]);
    // A new ledger in upsert mode: what the CRM already holds is updated,
    // the rest created, every row well.
    assert_eq!(run.code, 0, "{run:?}");

    let link = s.wd.path("keep/other-name.sqlite");
    std::fs::hard_link(&s.ledger, &link).unwrap();
    let run = s.run("cartera.csv", "linked.csv", &["--mode", "sync"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("hard link"), "{run:?}");
    let runs = s.ledger_cmd(&["runs"]);
    assert_eq!(runs.code, 2, "{runs:?}");
    std::fs::remove_file(&link).unwrap();
    let runs = s.ledger_cmd(&["runs"]);
    assert_eq!(runs.code, 0, "{runs:?}");
}

/// `ledger export` and `ledger backup` never write over the ledger or a
/// file they did not write; a failed export leaves nothing behind.
#[test]
fn ledger_export_and_backup_keep_off_the_ledger_and_foreign_files() {
    let s = Setup::new(fake_opts());
    s.write("cartera.csv", &obligations(0..5));
    let run = s.run("cartera.csv", "r.csv", &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let ledger_bytes = std::fs::read(&s.ledger).unwrap();
    for args in [
        vec!["export".to_string(), s.ledger_arg()],
        vec!["backup".to_string(), s.ledger_arg()],
        vec!["export".to_string(), format!("{}-wal", s.ledger_arg())],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = s.ledger_cmd(&args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains("the ledger itself"), "{r:?}");
    }
    assert!(
        std::fs::read(&s.ledger).unwrap() == ledger_bytes,
        "ledger untouched"
    );
    s.wd.write("notas.csv", "mis notas\n");
    let r = s.ledger_cmd(&["export", &s.path_str("notas.csv")]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(s.wd.read("notas.csv"), "mis notas\n");
    let r = s.ledger_cmd(&["backup", &s.path_str("notas.csv")]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(s.wd.read("notas.csv"), "mis notas\n");
    let r = s.ledger_cmd(&["export", &s.path_str("notas.csv"), "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(read_csv(&s.wd.path("notas.csv"), EXPORT_HEADER).len(), 5);
    // An earlier export, and an earlier backup, are replaced.
    let r = s.ledger_cmd(&["export", &s.path_str("notas.csv")]);
    assert_eq!(r.code, 0, "{r:?}");
    for _ in 0..2 {
        let r = s.ledger_cmd(&["backup", &s.path_str("copia.sqlite")]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    // Into a folder that does not exist: an error naming it, no file left.
    let r = s.ledger_cmd(&["export", &s.path_str("no/such/dir/x.csv")]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = s.ledger_cmd(&["backup", &s.path_str("no/such/dir/x.sqlite")]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("does not exist"), "{r:?}");
    assert!(!r.stderr.contains(".part-"), "{r:?}");
    assert!(!s.wd.path("no").exists());
    // The ledger's log named relatively, from the ledger's folder.
    let mut cmd = s.wd.command(&[
        "ledger",
        "backup",
        "ledger.sqlite-wal",
        "--ledger",
        &s.ledger_arg(),
    ]);
    cmd.current_dir(s.ledger.parent().unwrap());
    let r = Run::from(cmd.output().unwrap());
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("the ledger itself"), "{r:?}");
    // A damaged ledger is neither copied over a good backup nor listed as
    // if it were empty.
    let good_copy = std::fs::read(s.wd.path("copia.sqlite")).unwrap();
    let mut damaged = ledger_bytes.clone();
    let at = damaged.len() - 4096;
    damaged[at..at + 512].fill(0xA5);
    std::fs::write(&s.ledger, &damaged).unwrap();
    for args in [
        vec!["backup", "copia.sqlite"],
        vec!["runs"],
        vec!["export", "otra.csv"],
    ] {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                if a.contains('.') {
                    s.path_str(a)
                } else {
                    a.to_string()
                }
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = s.ledger_cmd(&args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(
            r.stderr.contains("the ledger is damaged"),
            "{args:?}: {r:?}"
        );
    }
    assert!(std::fs::read(s.wd.path("copia.sqlite")).unwrap() == good_copy);
    // A folder given as the ledger is named as one, by every command.
    let folder = s.path_str("keep");
    let r = s.wd.run(&["ledger", "runs", "--ledger", &folder]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("this is a folder, not a ledger file"),
        "{r:?}"
    );
    let r = s.wd.run(&[
        "import",
        "cartera.csv",
        "--mapping",
        "m.toml",
        "--dry-run",
        "--ledger",
        &folder,
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("this is a folder, not a ledger file"),
        "{r:?}"
    );
}

// ---------------------------------------------------------------------------
// 7. The `ledger` subcommand

/// Three runs on one ledger, each with an input of its own: `noche1.csv`
/// (sync, 30 created, exit 0), `noche2.csv` (sync: 5 changed, 5 new, 25 as
/// they were, 2 invalid; exit 1), `extra.csv` (insert, 10 new, stopped by
/// `--max-requests 3`: exit 3). All without the quota check, so each run's
/// requests are its rows' requests.
fn three_runs(s: &Setup) {
    let night1 = obligations(0..30);
    s.write("noche1.csv", &night1);
    let mut night2: Vec<Obligation> = obligations(0..35)
        .into_iter()
        .map(|o| {
            if o.n < 5 {
                let b = 2000 + o.n;
                o.with_balance(b)
            } else {
                o
            }
        })
        .collect();
    night2.push(Obligation::new(700).with_balance("abc"));
    night2.push(Obligation::new(701).with_balance("abc"));
    s.write("noche2.csv", &night2);
    s.write("extra.csv", &obligations(100..110));

    let run = s.run(
        "noche1.csv",
        "noche1.results.csv",
        &["--mode", "sync", "--no-preflight"],
    );
    assert_eq!(run.code, 0, "noche1: expected exit 0: {run:?}");
    let run = s.run(
        "noche2.csv",
        "noche2.results.csv",
        &["--mode", "sync", "--no-preflight"],
    );
    assert_eq!(
        run.code, 1,
        "noche2: expected exit 1 (2 invalid rows): {run:?}"
    );
    let run = s.run(
        "extra.csv",
        "extra.results.csv",
        &["--no-preflight", "--max-requests", "3"],
    );
    assert_eq!(
        run.code, 3,
        "extra: expected exit 3 (--max-requests): {run:?}"
    );
}

/// The number written next to `word` in `line`: "created 5", "created=5",
/// "created: 5" or "5 created".
fn number_next_to(line: &str, word: &str) -> Option<u64> {
    let lower = line.to_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find(word).map(|i| i + from) {
        let after: String = lower[at + word.len()..]
            .trim_start_matches([' ', '=', ':', '\t'])
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(n) = after.parse() {
            return Some(n);
        }
        let before: String = lower[..at]
            .trim_end()
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if let Ok(n) = before.parse() {
            return Some(n);
        }
        from = at + word.len();
    }
    None
}

/// The first number after "exit" in `line` ("exit 0", "exit=3", "exit code: 1").
fn exit_code_in(line: &str) -> Option<u64> {
    let lower = line.to_lowercase();
    let at = lower.find("exit")?;
    let rest = &lower[at + 4..];
    let start = rest.find(|c: char| c.is_ascii_digit())?;
    if start > 8 {
        return None;
    }
    rest[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

#[test]
fn ledger_runs_lists_each_run_newest_first_with_its_counts_and_exit_code() {
    let s = Setup::new(fake_opts());
    three_runs(&s);
    let runs = s.ledger_cmd(&["runs"]);
    assert_eq!(runs.code, 0, "expected `ledger runs` to exit 0: {runs:?}");
    let line_of = |input: &str| -> (usize, &str) {
        let found: Vec<(usize, &str)> = runs
            .stdout
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(input))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected exactly one line for the run of {input}: {runs:?}"
        );
        found[0]
    };
    let (i1, l1) = line_of("noche1.csv");
    let (i2, l2) = line_of("noche2.csv");
    let (i3, l3) = line_of("extra.csv");
    assert!(
        i3 < i2 && i2 < i1,
        "expected the runs newest first: {runs:?}"
    );
    for (line, code, mode) in [(l1, 0, "sync"), (l2, 1, "sync"), (l3, 3, "insert")] {
        assert_eq!(
            exit_code_in(line),
            Some(code),
            "expected exit code {code} on {line:?}"
        );
        assert!(line.contains(mode), "expected mode {mode} on {line:?}");
        assert!(
            line.contains("cobranza"),
            "expected the operation on {line:?}"
        );
        assert!(
            line.contains(&s.server_key()),
            "expected the server {} on {line:?}",
            s.server_key()
        );
    }
    for (line, word, n) in [
        (l1, "created", 30),
        (l1, "requests", 30),
        (l2, "created", 5),
        (l2, "updated", 5),
        (l2, "unchanged", 25),
        (l2, "invalid", 2),
        (l2, "requests", 10),
        (l3, "created", 3),
        (l3, "not_sent", 7),
        (l3, "requests", 3),
    ] {
        assert_eq!(
            number_next_to(line, word),
            Some(n),
            "expected {word} {n} on {line:?}"
        );
    }
    let limited = s.ledger_cmd(&["runs", "--limit", "1"]);
    assert_eq!(limited.code, 0, "{limited:?}");
    assert!(
        limited.stdout.contains("extra.csv")
            && !limited.stdout.contains("noche1.csv")
            && !limited.stdout.contains("noche2.csv"),
        "expected --limit 1 to list only the newest run: {limited:?}"
    );
}

#[test]
fn ledger_export_writes_the_known_obligations_with_the_ids_the_crm_gave() {
    let started = SystemTime::now();
    let s = Setup::new(fake_opts());
    three_runs(&s);
    let held = crm_holds(&s.fake);
    assert_eq!(held.len(), 38, "30 + 5 new + 3 stored before the cap");

    let all = s.path_str("all.csv");
    let run = s.ledger_cmd(&["export", &all]);
    assert_eq!(run.code, 0, "expected `ledger export` to exit 0: {run:?}");
    let rows = read_csv(Path::new(&all), EXPORT_HEADER);
    assert_eq!(
        rows.len(),
        38,
        "expected one line per obligation the CRM accepted"
    );
    let mut fingerprints = BTreeSet::new();
    for r in &rows {
        let key = (r["wolkvox_id"].clone(), r["obligation_id"].clone());
        let h = held
            .get(&key)
            .unwrap_or_else(|| panic!("exported {key:?}, which the CRM does not hold"));
        assert_eq!(
            r["obligation_wolkvox_id"], h.id,
            "expected the id the CRM gave to {key:?}"
        );
        assert_eq!(
            r["server"],
            s.server_key(),
            "expected the server key: {r:?}"
        );
        assert_eq!(r["operation"], "cobranza", "{r:?}");
        assert!(
            !r["body_fingerprint"].is_empty(),
            "expected a fingerprint: {r:?}"
        );
        fingerprints.insert(r["body_fingerprint"].clone());
        for col in ["created_at", "updated_at", "last_seen_at"] {
            assert_utc_time(&r[col], &format!("{key:?} {col}"), started);
        }
        assert!(
            r["created_at"] <= r["updated_at"],
            "expected created_at <= updated_at: {r:?}"
        );
    }
    assert_eq!(
        fingerprints.len(),
        38,
        "expected 38 different bodies to have 38 different fingerprints"
    );

    let server = s.server_key();
    for filter in [
        vec!["--server", server.as_str()],
        vec!["--operation", "cobranza"],
    ] {
        let out = s.path_str("filtered.csv");
        let mut args = vec!["export"];
        args.extend(filter.iter().copied());
        args.push(&out);
        let run = s.ledger_cmd(&args);
        assert_eq!(run.code, 0, "{filter:?}: {run:?}");
        assert_eq!(
            read_csv(Path::new(&out), EXPORT_HEADER).len(),
            38,
            "expected 38 obligations exported with {filter:?}"
        );
    }
    // A filter that matches nothing the ledger knows is a mistake, said so
    // (exit 2, no file), not an empty export.
    for filter in [
        vec!["--server", "crm0001.wolkvox.com"],
        vec!["--operation", "otra"],
    ] {
        let out = s.path_str("nothing.csv");
        let mut args = vec!["export"];
        args.extend(filter.iter().copied());
        args.push(&out);
        let run = s.ledger_cmd(&args);
        assert_eq!(run.code, 2, "{filter:?}: {run:?}");
        assert!(
            run.stderr.contains(&format!("{server} / cobranza")),
            "{filter:?}: {run:?}"
        );
        assert!(!Path::new(&out).exists(), "{filter:?}: {run:?}");
    }
}

#[test]
fn ledger_check_is_0_when_sound_1_with_an_intent_in_doubt_and_2_when_damaged_or_missing() {
    let mut s = Setup::new(fake_opts());
    // The fake keeps what it stored in a file, so a restarted fake on the
    // same address is the same CRM.
    let crm_file = s.wd.path("crm.jsonl");
    let opts = || FakeCrmOptions {
        ledger: Some(crm_file.clone()),
        ..fake_opts()
    };
    s.fake.restart(opts());
    let rows = obligations(0..6);
    s.write("dos.csv", &rows[..2]);
    s.write("cartera.csv", &rows);

    // Missing: 2, and nothing created.
    let check = s.ledger_cmd(&["check"]);
    assert_eq!(
        check.code, 2,
        "expected `ledger check` to exit 2 on a missing ledger: {check:?}"
    );
    assert!(
        !s.ledger.exists(),
        "expected `ledger check` not to create a ledger"
    );

    // Sound: 0.
    let run = s.run("dos.csv", "first.csv", &["--no-preflight"]);
    assert_eq!(run.code, 0, "expected exit 0: {run:?}");
    let check = s.ledger_cmd(&["check"]);
    assert_eq!(
        check.code, 0,
        "expected `ledger check` to exit 0 on a sound ledger with nothing in doubt: {check:?}"
    );

    // In doubt: the CRM stores the obligation and holds its answer back;
    // the import is SIGKILLed while it waits.
    s.fake.restart(FakeCrmOptions {
        slow_rate: 1.0,
        slow_delay: Duration::from_secs(30),
        ..opts()
    });
    let mut child = s.spawn(
        "cartera.csv",
        "second.csv",
        &["--timeout", "60s", "--no-preflight"],
        "doubt.log",
    );
    let ended = kill_after_writes(&mut child, &s.fake, 0, 1);
    assert!(
        ended.is_none(),
        "expected the import killed while it waited for an answer, but it ended ({ended:?}): {}",
        s.log("doubt.log")
    );
    let in_doubt: Vec<String> = s.fake.ledger()[2..]
        .iter()
        .map(|e| e["obligation"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !in_doubt.is_empty(),
        "expected the slow CRM to have stored an obligation before the kill"
    );
    let check = s.ledger_cmd(&["check"]);
    assert_eq!(
        check.code, 1,
        "expected `ledger check` to exit 1 with an intent in doubt: {check:?}"
    );
    for id in &in_doubt {
        assert!(
            check.stdout.contains(id.as_str()) || check.stderr.contains(id.as_str()),
            "expected `ledger check` to list obligation {id} as in doubt: {check:?}"
        );
    }

    // The next run settles it by a look-up, not by sending it again.
    s.fake.restart(opts());
    let run = s.run("cartera.csv", "third.csv", &[]);
    assert_eq!(run.code, 0, "expected the next run to exit 0: {run:?}");
    assert!(
        s.fake.stats().queries >= in_doubt.len() as u64,
        "expected each intent in doubt looked up: {:?}",
        s.fake.stats()
    );
    assert_crm_holds(&s.fake, &last_balances(&[&rows]));
    let check = s.ledger_cmd(&["check"]);
    assert_eq!(
        check.code, 0,
        "expected `ledger check` to exit 0 once the run settled the doubt: {check:?}"
    );
}

// ---------------------------------------------------------------------------
// 8. Where the ledger lives by default

#[cfg(target_os = "linux")]
#[test]
fn the_default_ledger_lives_in_the_per_user_state_folder() {
    let s = Setup::new(fake_opts());
    s.write("uno.csv", &obligations(0..5));
    s.write("dos.csv", &obligations(5..10));
    let home = s.wd.path("home");
    std::fs::create_dir(&home).unwrap();
    let xdg = s.wd.path("xdg");
    let base = s.fake.base_url();
    let import = |input: &str, output: &str| {
        let mut cmd = s.wd.command(&[
            "import",
            input,
            "--mapping",
            "m.toml",
            "--server",
            &base,
            "--output",
            output,
        ]);
        cmd.env("WOLKVOX_TOKEN", TOKEN)
            .env_remove("WOLKVOX_LEDGER")
            .env("HOME", &home);
        cmd
    };

    // $XDG_STATE_HOME/wolkvox-import/ledger.sqlite
    let run = Run::from(
        import("uno.csv", "uno.results.csv")
            .env("XDG_STATE_HOME", &xdg)
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let expected = xdg.join("wolkvox-import/ledger.sqlite");
    assert!(
        expected.is_file(),
        "expected the ledger created at {}",
        expected.display()
    );
    assert!(
        run.stderr
            .contains(&format!("ledger: {}", expected.display())),
        "expected the summary to name {}: {run:?}",
        expected.display()
    );
    assert!(
        !home.join(".local").exists(),
        "expected nothing under HOME when XDG_STATE_HOME is set"
    );

    // Without XDG_STATE_HOME: $HOME/.local/state/wolkvox-import/ledger.sqlite
    let run = Run::from(
        import("dos.csv", "dos.results.csv")
            .env_remove("XDG_STATE_HOME")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let expected = home.join(".local/state/wolkvox-import/ledger.sqlite");
    assert!(
        expected.is_file(),
        "expected the ledger created at {}",
        expected.display()
    );
    assert!(
        run.stderr
            .contains(&format!("ledger: {}", expected.display())),
        "expected the summary to name {}: {run:?}",
        expected.display()
    );
    assert_crm_holds(&s.fake, &last_balances(&[&obligations(0..10)]));

    // --help says where it is, for this user and XDG_STATE_HOME.
    let state = s.wd.path("state");
    for (command, xdg) in [
        (vec!["import", "--help"], Some(&state)),
        (vec!["import", "--help"], None),
        (vec!["ledger", "runs", "--help"], Some(&state)),
    ] {
        let mut c = s.wd.command(&command);
        c.env_remove("WOLKVOX_LEDGER").env("HOME", &home);
        match xdg {
            Some(x) => c.env("XDG_STATE_HOME", x),
            None => c.env_remove("XDG_STATE_HOME"),
        };
        let help = Run::from(c.output().unwrap());
        assert_eq!(help.code, 0, "{help:?}");
        let place = match xdg {
            Some(x) => x.join("wolkvox-import/ledger.sqlite"),
            None => home.join(".local/state/wolkvox-import/ledger.sqlite"),
        };
        let place = place.display().to_string();
        for needle in ["--ledger", "WOLKVOX_LEDGER", place.as_str()] {
            assert!(
                help.stdout.contains(needle),
                "expected `{command:?}` to mention {needle}: {help:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// 9. The ledger's names, copies of it, and limits on writing it

/// `import` against this test's fake, in the test's folder, with the ledger
/// named `ledger` (as given: relative to the folder, or through a link).
fn import_with_ledger(
    s: &Setup,
    input: &str,
    output: &str,
    ledger: &str,
    extra: &[&str],
) -> Command {
    let base = s.fake.base_url();
    let mut args = vec![
        "import",
        input,
        "--mapping",
        "m.toml",
        "--server",
        &base,
        "--ledger",
        ledger,
        "--output",
        output,
    ];
    args.extend_from_slice(extra);
    let mut cmd = s.wd.command(&args);
    cmd.env("WOLKVOX_TOKEN", TOKEN);
    cmd
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// A symbolic link to a ledger that does not exist yet is followed before
/// anything is created or locked: two imports started together under the
/// two names share one lock (one runs, the other is refused), the new
/// ledger is made where the link points, through chains of links and
/// relative targets, and every link stays a link. A loop of links is
/// refused before anything is sent.
#[cfg(unix)]
#[test]
fn two_names_of_a_ledger_not_made_yet_share_one_lock_and_links_stay_links() {
    use std::os::unix::fs::symlink;
    let s = Setup::new(FakeCrmOptions {
        latency: Duration::from_millis(25),
        ..fake_opts()
    });
    let rows = obligations(0..80);
    s.write("cartera.csv", &rows);
    symlink("ledger.sqlite", s.wd.path("alias.sqlite")).unwrap();
    let spawn = |ledger: &str, out: &str| {
        import_with_ledger(&s, "cartera.csv", out, ledger, &[])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (a, b) = (
        spawn("ledger.sqlite", "a.results.csv"),
        spawn("alias.sqlite", "b.results.csv"),
    );
    let run_a = Run::from(a.wait_with_output().unwrap());
    let run_b = Run::from(b.wait_with_output().unwrap());
    let mut codes = [run_a.code, run_b.code];
    codes.sort();
    assert_eq!(
        codes,
        [0, 2],
        "expected one import to run and the other to be refused\n--- by name: {run_a:?}\n--- through the link: {run_b:?}"
    );
    let loser = if run_a.code == 2 { &run_a } else { &run_b };
    assert!(
        loser.stderr.contains("another import holds the ledger"),
        "{loser:?}"
    );
    assert_eq!(s.fake.stats().inserts, 80, "each obligation sent once");
    assert_crm_holds(&s.fake, &last_balances(&[&rows]));
    assert!(is_link(&s.wd.path("alias.sqlite")), "the link stays a link");
    assert!(s.wd.path("ledger.sqlite").is_file());
    assert!(
        !s.wd.path("alias.sqlite.lock").exists(),
        "one lock, beside the ledger"
    );

    // A chain of links with relative targets, to a folder not made yet.
    std::fs::create_dir(s.wd.path("links")).unwrap();
    symlink("second.sqlite", s.wd.path("links/first.sqlite")).unwrap();
    symlink("../store/ledger.sqlite", s.wd.path("links/second.sqlite")).unwrap();
    let more = obligations(100..110);
    s.write("more.csv", &more);
    let run = Run::from(
        import_with_ledger(
            &s,
            "more.csv",
            "more.results.csv",
            "links/first.sqlite",
            &[],
        )
        .output()
        .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(is_link(&s.wd.path("links/first.sqlite")));
    assert!(is_link(&s.wd.path("links/second.sqlite")));
    assert!(
        s.wd.path("store/ledger.sqlite").is_file(),
        "the new ledger is made where the chain ends: {run:?}"
    );
    assert!(s.wd.path("store/ledger.sqlite.lock").is_file());
    // The same ledger under its own name knows every obligation.
    let before = s.fake.stats();
    let run = Run::from(
        import_with_ledger(
            &s,
            "more.csv",
            "again.results.csv",
            "store/ledger.sqlite",
            &[],
        )
        .output()
        .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(sent_since(&s.fake, &before), NOTHING, "{run:?}");

    // A loop of links names no file at all.
    symlink("loop-b.sqlite", s.wd.path("loop-a.sqlite")).unwrap();
    symlink("loop-a.sqlite", s.wd.path("loop-b.sqlite")).unwrap();
    let before = s.fake.stats();
    let run = Run::from(
        import_with_ledger(&s, "more.csv", "loop.results.csv", "loop-a.sqlite", &[])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("loop-a.sqlite") && run.stderr.contains("loop of symbolic links"),
        "{run:?}"
    );
    assert_eq!(sent_since(&s.fake, &before), NOTHING, "{run:?}");
    assert!(is_link(&s.wd.path("loop-a.sqlite")) && is_link(&s.wd.path("loop-b.sqlite")));
}

/// A limit on the size of the files the process may write (`ulimit -f`):
/// the write past it fails instead of killing the process, so the run
/// stops like on a full disk (exit 3, the file and the cause named, the
/// summary written), and `--resume` finishes it, each obligation once.
#[cfg(unix)]
#[test]
fn a_file_size_limit_stops_the_run_with_exit_3_and_resume_completes_exactly_once() {
    use std::os::unix::process::CommandExt;
    let rows = obligations(0..3000);
    let s = Setup::new(FakeCrmOptions {
        latency: Duration::from_millis(1),
        ..fake_opts()
    });
    s.write("cartera.csv", &rows);
    let mut cmd = s.import("cartera.csv", "results.csv", &[]);
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 256 * 1024,
                rlim_max: 256 * 1024,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let run = Run::from(cmd.output().unwrap());
    settle(&s.fake);
    assert_eq!(
        run.code, 3,
        "expected exit 3, not a kill by SIGXFSZ: {run:?}"
    );
    assert!(
        run.stderr.contains(&s.ledger_arg()) && run.stderr.contains("file size limit"),
        "expected the file and the cause named: {run:?}"
    );
    assert!(run.stderr.contains("--resume"), "{run:?}");
    assert!(
        run.stderr.contains("not_sent"),
        "expected the summary: {run:?}"
    );
    let stored = s.fake.ledger().len();
    assert!(
        stored > 0 && stored < rows.len(),
        "stored {stored}: {run:?}"
    );

    let before = s.fake.stats();
    let run = s.run("cartera.csv", "results.csv", &["--resume"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        sent_since(&s.fake, &before).inserts as usize,
        rows.len() - stored,
        "only the obligations not yet stored are sent: {run:?}"
    );
    assert_crm_holds(&s.fake, &last_balances(&[&rows]));
}

/// The first sheet of an .xlsx, every cell as text.
fn xlsx_rows(path: &Path) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path)
        .unwrap_or_else(|e| panic!("{} is not a workbook: {e}", path.display()));
    let sheet = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&sheet).unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    calamine::Data::String(s) => s.clone(),
                    calamine::Data::Empty => String::new(),
                    other => panic!("{}: expected text cells, got {other:?}", path.display()),
                })
                .collect()
        })
        .collect()
}

/// `--vanished` and `ledger export` named `.xlsx` write real workbooks with
/// every id as text (leading zeros kept), as `--output` and `--rejects` do;
/// the other workbook names are refused before anything is read or sent.
#[test]
fn vanished_and_export_named_xlsx_are_workbooks_and_other_workbook_names_are_refused() {
    let s = Setup::new(fake_opts());
    s.write("noche1.csv", &obligations(0..30));
    s.write("noche2.csv", &obligations(0..20));
    let run = s.run("noche1.csv", "noche1.results.csv", &["--mode", "sync"]);
    assert_eq!(run.code, 0, "{run:?}");
    for _ in 0..2 {
        let run = s.run(
            "noche2.csv",
            "noche2.results.csv",
            &["--mode", "sync", "--vanished", "ausentes.xlsx"],
        );
        assert_eq!(run.code, 0, "{run:?}");
        let sheet = xlsx_rows(&s.wd.path("ausentes.xlsx"));
        assert_eq!(sheet[0].join(","), VANISHED_HEADER);
        let mut ids: Vec<&str> = sheet[1..].iter().map(|r| r[1].as_str()).collect();
        ids.sort();
        let want: Vec<String> = (20..30).map(|n| format!("{n:06}")).collect();
        assert_eq!(ids, want, "the ids as text, leading zeros kept");
    }
    let dry = s.dry_run(
        "noche2.csv",
        "dry.csv",
        &["--mode", "sync", "--vanished", "seco.xlsx"],
    );
    assert_eq!(dry.code, 0, "{dry:?}");
    assert_eq!(xlsx_rows(&s.wd.path("seco.xlsx")).len(), 11, "{dry:?}");

    let all = s.path_str("todas.xlsx");
    let r = s.ledger_cmd(&["export", &all]);
    assert_eq!(r.code, 0, "{r:?}");
    let sheet = xlsx_rows(Path::new(&all));
    assert_eq!(sheet[0].join(","), EXPORT_HEADER);
    assert_eq!(sheet.len(), 31, "{r:?}");
    assert!(sheet[1..].iter().all(|r| r[3].len() == 6), "{sheet:?}");
    // An earlier export workbook is replaced.
    let r = s.ledger_cmd(&["export", &all]);
    assert_eq!(r.code, 0, "{r:?}");

    let before = s.fake.stats();
    for ext in ["xls", "xlsb", "ods", "xlsm", "XLS"] {
        let name = format!("ausentes.{ext}");
        let out = format!("{ext}.results.csv");
        let run = s.run("noche2.csv", &out, &["--mode", "sync", "--vanished", &name]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr.contains(&name) && run.stderr.contains(".csv"),
            "{run:?}"
        );
        assert!(!s.wd.path(&name).exists(), "{run:?}");
        assert!(
            !s.wd.path(&out).exists(),
            "nothing read or written: {run:?}"
        );
        let target = s.path_str(&format!("export.{ext}"));
        let r = s.ledger_cmd(&["export", &target]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains(".csv"), "{r:?}");
        assert!(!Path::new(&target).exists(), "{r:?}");
    }
    assert_eq!(sent_since(&s.fake, &before), NOTHING);
}

/// `--resume` when the ledger that recorded the run is gone (deleted with
/// its log) and the results file says rows were created: a new ledger
/// would send them again, so the run is refused before anything is sent,
/// and says what to do. `--mode upsert` rebuilds it; a first run with
/// `--resume` and no results file yet simply starts.
#[test]
fn resume_with_the_ledger_gone_refuses_to_send_again_what_the_results_say_was_created() {
    let s = Setup::new(fake_opts());
    let rows = obligations(0..100);
    s.write("cartera.csv", &rows);
    let run = s.run(
        "cartera.csv",
        "r.csv",
        &["--resume", "--max-requests", "40", "--no-preflight"],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(s.fake.stats().inserts, 40);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", s.ledger_arg()));
    }

    let before = s.fake.stats();
    for lang in ["en", "es"] {
        let run = s.run("cartera.csv", "r.csv", &["--resume", "--lang", lang]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr.contains(&s.ledger_arg()) && run.stderr.contains("r.csv"),
            "{run:?}"
        );
        let needles: &[&str] = match lang {
            "en" => &["40 rows", "again", "backup", "--mode upsert", "move"],
            _ => &["40 filas", "de nuevo", "copia", "--mode upsert"],
        };
        for n in needles {
            assert!(run.stderr.contains(n), "expected {n:?}: {run:?}");
        }
        assert!(!s.ledger.exists(), "no new ledger was started: {run:?}");
    }
    assert_eq!(sent_since(&s.fake, &before), NOTHING);

    // Rebuilt by upsert: the 40 are looked up, the rest created, none twice.
    let run = s.run("cartera.csv", "r.csv", &["--resume", "--mode", "upsert"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_crm_holds(&s.fake, &last_balances(&[&rows]));

    // The first night of a new job: --resume, no results file yet.
    let first = obligations(500..510);
    s.write("primera.csv", &first);
    let fresh = Setup {
        ledger: s.wd.path("fresh/ledger.sqlite"),
        ..s
    };
    let run = fresh.run("primera.csv", "primera.results.csv", &["--resume"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_crm_holds(&fresh.fake, &last_balances(&[&rows, &first]));
}

/// `ledger backup` and `ledger export` never write over a ledger an import
/// is using, not even with `--force`; a ledger imports have used (not a
/// copy `ledger backup` made) is replaced only with `--force`.
#[test]
fn ledger_backup_and_export_never_replace_a_ledger_an_import_is_using() {
    let s = Setup::new(FakeCrmOptions {
        latency: Duration::from_millis(25),
        ..fake_opts()
    });
    let rows = obligations(0..160);
    s.write("cartera.csv", &rows);
    let others = obligations(1000..1005);
    s.write("otra.csv", &others);
    let other = s.path_str("other.sqlite");
    let run = Run::from(
        import_with_ledger(&s, "otra.csv", "otra.results.csv", &other, &[])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");

    let mut live = slow_import_sending(&s, "live.csv", "live.log");
    let live_path = s.ledger_arg();
    for args in [
        vec!["backup", live_path.as_str()],
        vec!["backup", live_path.as_str(), "--force"],
        vec!["export", live_path.as_str(), "--force"],
    ] {
        let mut all = vec!["ledger"];
        all.extend_from_slice(&args);
        all.extend(["--ledger", &other]);
        let r = s.wd.run(&all);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(
            r.stderr.contains(&live_path) && r.stderr.contains("an import is using now"),
            "{args:?}: {r:?}"
        );
    }
    let status = wait_at_most_a_minute(&mut live);
    assert_eq!(status.code(), Some(0), "{}", s.log("live.log"));
    assert_crm_holds(&s.fake, &last_balances(&[&rows, &others]));
    // The live ledger kept every obligation it sent: nothing is sent again.
    let before = s.fake.stats();
    let again = s.run("cartera.csv", "again.csv", &["--resume"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(sent_since(&s.fake, &before), NOTHING, "{again:?}");

    // Between imports: a ledger imports use is no copy to replace.
    let bytes = std::fs::read(&s.ledger).unwrap();
    let r =
        s.wd.run(&["ledger", "backup", &live_path, "--ledger", &other]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--force"), "{r:?}");
    assert!(std::fs::read(&s.ledger).unwrap() == bytes, "left as it was");
    let r =
        s.wd.run(&["ledger", "export", &live_path, "--ledger", &other]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(std::fs::read(&s.ledger).unwrap() == bytes, "left as it was");
    // A copy made by `ledger backup` is replaced by the next one.
    let copy = s.path_str("copia.sqlite");
    for _ in 0..2 {
        let r = s.wd.run(&["ledger", "backup", &copy, "--ledger", &other]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    // On purpose, with --force.
    let r = s.wd.run(&[
        "ledger", "backup", &live_path, "--ledger", &other, "--force",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// `ledger export --server` takes the server as `import --server` does (a
/// URL, a bare host), and a filter that matches nothing the ledger knows is
/// an error naming what it knows; a scope with no obligations is not.
#[test]
fn ledger_export_takes_the_server_as_import_does_and_refuses_a_filter_matching_nothing() {
    let s = Setup::new(fake_opts());
    s.write("cartera.csv", &obligations(0..12));
    let run = s.run("cartera.csv", "r.csv", &[]);
    assert_eq!(run.code, 0, "{run:?}");
    s.wd.write("vacia.csv", "registro,obligacion,saldo,mora,ciudad\n");
    let run = s.run("vacia.csv", "vacia.results.csv", &["--operation", "vacia"]);
    assert_eq!(run.code, 0, "{run:?}");

    let base = s.fake.base_url();
    let root = format!("http://{}/", s.fake.local_addr());
    let host = s.server_key();
    let out = s.path_str("x.csv");
    for filter in [
        vec!["--server", base.as_str()],
        vec!["--server", root.as_str()],
        vec!["--server", host.as_str()],
        vec!["--server", root.as_str(), "--operation", " cobranza "],
    ] {
        let mut args = vec!["export", out.as_str()];
        args.extend_from_slice(&filter);
        let r = s.ledger_cmd(&args);
        assert_eq!(r.code, 0, "{filter:?}: {r:?}");
        assert_eq!(
            read_csv(Path::new(&out), EXPORT_HEADER).len(),
            12,
            "{filter:?}"
        );
    }
    let r = s.ledger_cmd(&["export", &out, "--operation", "vacia"]);
    assert_eq!(r.code, 0, "a scope with no obligations: {r:?}");
    assert_eq!(read_csv(Path::new(&out), EXPORT_HEADER).len(), 0);

    for filter in [
        vec!["--server", "crm0001.wolkvox.com"],
        vec!["--operation", "otra"],
        vec!["--server", host.as_str(), "--operation", "otra"],
    ] {
        let nothing = s.path_str("nada.csv");
        let mut args = vec!["export", nothing.as_str()];
        args.extend_from_slice(&filter);
        let r = s.ledger_cmd(&args);
        assert_eq!(r.code, 2, "{filter:?}: {r:?}");
        assert!(
            r.stderr.contains(&format!("{host} / cobranza"))
                && r.stderr.contains(&format!("{host} / vacia")),
            "expected the scopes the ledger knows listed: {r:?}"
        );
        assert!(!Path::new(&nothing).exists(), "{r:?}");
    }
    // A server import refuses is refused here too, for the same reason.
    let r = s.ledger_cmd(&["export", &out, "--server", "sv0001.crmvox.com"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("crm0001.wolkvox.com"), "{r:?}");
}
