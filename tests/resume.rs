//! Never lose or duplicate an obligation: crashes and --resume, lookups
//! after timeouts, the daily quota, update and upsert modes, and the guards
//! around the results file. Each test runs the real binary against the fake
//! CRM on loopback and checks the fake's ledger as well as the results.

mod common;

use common::{read_results, wait_until, Run, Running, Workdir};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use wolkvox_import::fake_crm::{FakeCrm, FakeCrmOptions, FakeCrmStats};

const TOKEN: &str = "resume-test-token";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn start(rt: &tokio::runtime::Runtime, opts: FakeCrmOptions) -> FakeCrm {
    rt.block_on(FakeCrm::start(
        "127.0.0.1:0".parse().unwrap(),
        FakeCrmOptions {
            token: TOKEN.into(),
            ..opts
        },
    ))
    .expect("fake CRM starts")
}

/// A runtime, a folder with a portfolio of `rows` rows and the mapping, and a
/// fake CRM with `opts`: what most tests here start from.
fn setup(rows: usize, opts: FakeCrmOptions) -> (tokio::runtime::Runtime, Workdir, FakeCrm) {
    let rt = runtime();
    let wd = Workdir::new();
    portfolio(&wd, rows, 0);
    wd.write("m.toml", MAPPING);
    let fake = start(&rt, opts);
    (rt, wd, fake)
}

/// A portfolio of `rows` obligations spread over a few collections records.
fn portfolio(wd: &Workdir, rows: usize, balance_bump: u64) -> PathBuf {
    let mut s = String::from("registro,obligacion,saldo,mora,ciudad\n");
    for i in 0..rows {
        s.push_str(&format!(
            "R{},{:06},{},{},Ciudad {}\n",
            i % 5,
            i,
            1000 + i as u64 + balance_bump,
            i % 90,
            i % 7
        ));
    }
    wd.write("cartera.csv", s)
}

const MAPPING: &str = r#"
[request]
operation = "cobranza"
[fields]
wolkvox_id = "registro"
id = "obligacion"
total_balance = { column = "saldo", type = "number" }
days_delay = { column = "mora", type = "integer" }
"#;

fn import(wd: &Workdir, fake: &FakeCrm, extra: &[&str]) -> Run {
    import_to(wd, fake, "results.csv", extra)
}

fn import_to(wd: &Workdir, fake: &FakeCrm, output: &str, extra: &[&str]) -> Run {
    Run::from(import_cmd(wd, fake, output, extra).output().unwrap())
}

/// `import cartera.csv` against `fake`, writing `output`, plus `extra`.
fn import_cmd(wd: &Workdir, fake: &FakeCrm, output: &str, extra: &[&str]) -> Command {
    let base = fake.base_url();
    let mut args = vec![
        "import",
        "cartera.csv",
        "--mapping",
        "m.toml",
        "--server",
        &base,
        "--output",
        output,
    ];
    args.extend_from_slice(extra);
    let mut cmd = wd.command(&args);
    cmd.env("WOLKVOX_TOKEN", TOKEN);
    cmd
}

/// Ledger writes per obligation `(record, id)`, split by method.
fn ledger_counts(fake: &FakeCrm) -> BTreeMap<(String, String), (u32, u32)> {
    let mut m: BTreeMap<(String, String), (u32, u32)> = BTreeMap::new();
    for e in fake.ledger_entries() {
        let key = (
            e["wolkvox_id"].as_str().unwrap().to_string(),
            e["obligation"].as_str().unwrap().to_string(),
        );
        let slot = m.entry(key).or_default();
        if e["method"] == "PUT" {
            slot.1 += 1;
        } else {
            slot.0 += 1;
        }
    }
    m
}

fn assert_each_inserted_once(fake: &FakeCrm, rows: usize) {
    let counts = ledger_counts(fake);
    let dups: Vec<_> = counts.iter().filter(|(_, (p, _))| *p > 1).collect();
    assert!(dups.is_empty(), "duplicated obligations: {dups:?}");
    assert_eq!(
        counts.len(),
        rows,
        "every row must be in the ledger exactly once"
    );
}

fn status_counts(wd: &Workdir) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in read_results(&wd.path("results.csv")) {
        *m.entry(r["status"].clone()).or_default() += 1;
    }
    m
}

/// Three trials, each SIGKILLing the import three times and resuming the
/// run before; the last run goes to its end. The kills are triggered by what
/// the fake has stored, at seeded points spread over the run (one in each
/// third), so each lands mid-run whatever the machine's speed: the killed
/// run has stored some rows but not all. The fake fails 5% of requests and
/// drops 5% of answers after storing, so kills also catch rows between a
/// retry and a look-up.
#[test]
fn killed_at_random_moments_then_resumed_nothing_is_lost_or_duplicated() {
    let rt = runtime();
    let rows = 150;
    let mut total_dups = 0;
    let mut total_lost = 0;
    for seed in [11u64, 22, 33] {
        let wd = Workdir::new();
        portfolio(&wd, rows, 0);
        wd.write("m.toml", MAPPING);
        let fake = start(
            &rt,
            FakeCrmOptions {
                latency: Duration::from_millis(1),
                drop_after_commit_rate: 0.05,
                fail_rate: 0.05,
                seed,
                ledger: Some(wd.path("ledger.jsonl")),
                ..FakeCrmOptions::default()
            },
        );
        let mut rng = SmallRng::seed_from_u64(seed);
        // Each kill resumes the run the one before killed.
        for third in 0..3u64 {
            let stored_before = fake.stats().inserts;
            // A point in this third of the rows, away from its edges.
            let third_len = rows as u64 / 3;
            let at = third * third_len + rng.random_range(third_len / 6..third_len * 5 / 6);
            let mut child = Running::spawn(import_cmd(&wd, &fake, "results.csv", &["--resume"]));
            wait_until(&format!("{at} obligations stored"), || {
                assert!(
                    child.is_running(),
                    "seed {seed}: the import ended before {at} obligations were stored: {}",
                    child.stderr()
                );
                fake.stats().inserts >= at
            });
            child.kill();
            let stored = fake.stats().inserts;
            assert!(
                stored > stored_before && stored < rows as u64,
                "seed {seed}: the kill must land mid-run: {stored_before} stored before it started, {stored} when it was killed, of {rows}"
            );
        }
        let done = import(&wd, &fake, &["--resume"]);
        assert_eq!(done.code, 0, "{done:?}");
        let results = read_results(&wd.path("results.csv"));
        assert_eq!(results.len(), rows, "one line per row");
        let rows_seen: Vec<u64> = results.iter().map(|r| r["row"].parse().unwrap()).collect();
        assert_eq!(
            rows_seen,
            (2..rows as u64 + 2).collect::<Vec<_>>(),
            "sorted, one per row"
        );
        assert!(
            results.iter().all(|r| r["status"] == "created"),
            "all created"
        );
        let counts = ledger_counts(&fake);
        total_dups += counts.values().filter(|(p, _)| *p > 1).count();
        total_lost += rows - counts.len();
        // The id in the results is the one the fake holds for that obligation.
        let ids: BTreeMap<(String, String), String> = fake
            .ledger_entries()
            .iter()
            .map(|e| {
                (
                    (
                        e["wolkvox_id"].as_str().unwrap().to_string(),
                        e["obligation"].as_str().unwrap().to_string(),
                    ),
                    e["obligation_wolkvox_id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        for r in &results {
            let key = (r["wolkvox_id"].clone(), r["obligation_id"].clone());
            assert_eq!(
                Some(&r["obligation_wolkvox_id"]),
                ids.get(&key),
                "row {}",
                r["row"]
            );
        }
        rt.block_on(fake.shutdown());
    }
    eprintln!(
        "crash trials: 3 x 3 kills, {rows} rows each: duplicates {total_dups}, lost {total_lost}"
    );
    assert_eq!((total_dups, total_lost), (0, 0));
}

#[test]
fn a_timed_out_insert_is_found_by_a_lookup_not_sent_again() {
    let (_rt, wd, fake) = setup(
        40,
        FakeCrmOptions {
            slow_rate: 0.3,
            slow_delay: Duration::from_secs(2),
            seed: 5,
            ..FakeCrmOptions::default()
        },
    );
    let run = import(&wd, &fake, &["--timeout", "300ms", "--no-preflight"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_each_inserted_once(&fake, 40);
    let results = read_results(&wd.path("results.csv"));
    assert!(results.iter().all(|r| r["status"] == "created"));
    // Rows whose insert timed out took an extra request (the lookup), and the
    // fake answered more queries than zero.
    assert!(
        results.iter().any(|r| r["attempts"] != "1"),
        "some insert must have timed out"
    );
    assert!(fake.stats().queries > 0);
    assert_eq!(fake.stats().inserts, 40);
}

#[test]
fn quota_stops_the_run_and_resume_completes_it_after_the_limit_rises() {
    let rt = runtime();
    let wd = Workdir::new();
    portfolio(&wd, 30, 0);
    wd.write("m.toml", MAPPING);
    let ledger = wd.path("ledger.jsonl");
    let fake = start(
        &rt,
        FakeCrmOptions {
            daily_limit: Some(10),
            ledger: Some(ledger.clone()),
            ..FakeCrmOptions::default()
        },
    );
    let run = import(&wd, &fake, &[]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("--resume"), "{}", run.stderr);
    let counts = status_counts(&wd);
    // The preflight took one request of the ten.
    assert_eq!(counts.get("created"), Some(&9), "{counts:?}");
    assert_eq!(counts.get("not_sent"), Some(&21), "{counts:?}");
    assert_eq!(fake.stats().inserts, 9);
    rt.block_on(fake.shutdown());

    // A new day, a bigger quota, the same CRM.
    let fake = start(
        &rt,
        FakeCrmOptions {
            daily_limit: Some(100),
            ledger: Some(ledger),
            ..FakeCrmOptions::default()
        },
    );
    let run = import(&wd, &fake, &["--resume"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(status_counts(&wd).get("created"), Some(&30));
    assert_each_inserted_once(&fake, 30);
    // Only the 21 missing rows were sent, plus the preflight.
    assert_eq!(fake.stats().requests, 22);
}

#[test]
fn the_preflight_sends_nothing_when_nothing_fits() {
    let (_rt, wd, fake) = setup(
        8,
        FakeCrmOptions {
            daily_limit: Some(1),
            ..FakeCrmOptions::default()
        },
    );
    let run = import(&wd, &fake, &[]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(status_counts(&wd).get("not_sent"), Some(&8));
    assert_eq!(fake.stats().inserts, 0);
    assert_eq!(fake.stats().requests, 1, "only the preflight");
}

#[test]
fn max_requests_caps_a_run() {
    let (_rt, wd, fake) = setup(12, FakeCrmOptions::default());
    let run = import(&wd, &fake, &["--max-requests", "5", "--no-preflight"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(fake.stats().requests, 5);
    assert_eq!(status_counts(&wd).get("created"), Some(&5));
    let run = import(&wd, &fake, &["--resume", "--no-preflight"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_each_inserted_once(&fake, 12);
}

#[test]
fn update_mode_puts_only_the_mapped_fields() {
    let (_rt, wd, fake) = setup(6, FakeCrmOptions::default());
    assert_eq!(import(&wd, &fake, &["--no-preflight"]).code, 0);

    // Tomorrow's balances, with a mapping that only knows the balance.
    portfolio(&wd, 6, 500);
    wd.write(
        "m.toml",
        "[request]\noperation = \"cobranza\"\n[fields]\nwolkvox_id = \"registro\"\nid = \"obligacion\"\ntotal_balance = { column = \"saldo\", type = \"number\" }\n[form]\nextra_columns = \"none\"\n",
    );
    let run = import_to(
        &wd,
        &fake,
        "update.csv",
        &[
            "--mode",
            "update",
            "--payloads",
            "p.jsonl",
            "--no-preflight",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let results = read_results(&wd.path("update.csv"));
    assert!(
        results.iter().all(|r| r["status"] == "updated"),
        "{results:?}"
    );
    let puts: Vec<serde_json::Value> = fake
        .ledger_entries()
        .into_iter()
        .filter(|e| e["method"] == "PUT")
        .collect();
    assert_eq!(puts.len(), 6);
    for p in &puts {
        let fields = p["body"]["fields"].as_object().unwrap();
        let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 2, "only id and total_balance: {keys:?}");
        assert!(fields.contains_key("id") && fields.contains_key("total_balance"));
    }
    let first = puts
        .iter()
        .find(|p| p["obligation"] == "000000")
        .expect("obligation 000000 updated");
    assert_eq!(first["body"]["fields"]["total_balance"], "1500");
    assert_eq!(fake.stats().inserts, 6, "no insert in update mode");
}

#[test]
fn upsert_creates_the_new_half_and_updates_the_known_half_once_each() {
    let rt = runtime();
    let wd = Workdir::new();
    // The CRM already holds the first 10 of 20 obligations.
    portfolio(&wd, 10, 0);
    wd.write("m.toml", MAPPING);
    let fake = start(&rt, FakeCrmOptions::default());
    assert_eq!(
        import_to(&wd, &fake, "first.csv", &["--no-preflight"]).code,
        0
    );

    portfolio(&wd, 20, 7);
    let run = import(&wd, &fake, &["--mode", "upsert", "--no-preflight"]);
    assert_eq!(run.code, 0, "{run:?}");
    let counts = status_counts(&wd);
    assert_eq!(counts.get("updated"), Some(&10), "{counts:?}");
    assert_eq!(counts.get("created"), Some(&10), "{counts:?}");
    let ledger = ledger_counts(&fake);
    assert_eq!(ledger.len(), 20);
    for ((_, id), (posts, puts)) in &ledger {
        let n: usize = id.parse().unwrap();
        if n < 10 {
            assert_eq!(
                (*posts, *puts),
                (1, 1),
                "obligation {id}: inserted yesterday, updated today"
            );
        } else {
            assert_eq!((*posts, *puts), (1, 0), "obligation {id}: created once");
        }
    }
    // The ledger knew the first 10 (no look-up: one PUT each); the 10 new
    // ones cost a look-up and a POST each.
    assert_eq!(fake.stats().queries, 10);
    assert_eq!(fake.stats().requests, 10 + 30, "10 yesterday, 30 today");

    // The answers are remembered: the same file again costs nothing.
    let again = import(&wd, &fake, &["--mode", "upsert", "--no-preflight"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(status_counts(&wd).get("unchanged"), Some(&20));
    assert_eq!(fake.stats().requests, 40, "no request the second time");
}

/// Rows done before a stop, then changed in the file: insert mode never
/// inserts them again (it says how to update them), sync mode updates them.
#[test]
fn resuming_with_changed_input_never_inserts_twice_and_sync_updates() {
    let (_rt, wd, fake) = setup(10, FakeCrmOptions::default());
    assert_eq!(
        import(&wd, &fake, &["--max-requests", "4", "--no-preflight"]).code,
        3
    );

    portfolio(&wd, 10, 1); // every balance changed
    let run = import(&wd, &fake, &["--resume", "--no-preflight"]);
    assert_eq!(run.code, 1, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    let failed: Vec<&common::ResultRow> =
        results.iter().filter(|r| r["status"] == "failed").collect();
    assert_eq!(failed.len(), 4, "the 4 rows done before: {results:?}");
    for r in &failed {
        assert!(r["error"].contains("--mode sync"), "{}", r["error"]);
        assert!(!r["obligation_wolkvox_id"].is_empty(), "{r:?}");
        assert_eq!(r["attempts"], "0");
    }
    assert_eq!(status_counts(&wd).get("created"), Some(&6));
    assert_each_inserted_once(&fake, 10);

    let run = import(&wd, &fake, &["--mode", "sync", "--no-preflight"]);
    assert_eq!(run.code, 0, "{run:?}");
    let counts = status_counts(&wd);
    assert_eq!(counts.get("updated"), Some(&4), "{counts:?}");
    assert_eq!(counts.get("unchanged"), Some(&6), "{counts:?}");
    assert_each_inserted_once(&fake, 10);
    assert_eq!(fake.stats().updates, 4);
}

/// The results file is a report: overwriting it, or a dry run replacing it,
/// loses nothing, and running the same command again sends nothing.
#[test]
fn running_the_same_command_again_sends_nothing_whatever_happened_to_the_results() {
    let (_rt, wd, fake) = setup(5, FakeCrmOptions::default());
    assert_eq!(import(&wd, &fake, &["--no-preflight"]).code, 0);

    let run = import(&wd, &fake, &["--no-preflight"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(status_counts(&wd).get("unchanged"), Some(&5));
    let dry = wd.run(&[
        "import",
        "cartera.csv",
        "--mapping",
        "m.toml",
        "--dry-run",
        "--output",
        "results.csv",
    ]);
    assert_eq!(dry.code, 0, "{dry:?}");
    std::fs::remove_file(wd.path("results.csv")).unwrap();
    assert_eq!(import(&wd, &fake, &["--no-preflight"]).code, 0);
    assert_eq!(fake.stats().inserts, 5);
    assert_eq!(fake.stats().requests, 5, "nothing sent after the first run");

    // --resume of a finished run sends nothing.
    let run = import(&wd, &fake, &["--resume", "--no-preflight"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(fake.stats().requests, 5);
}

#[test]
fn resume_without_a_results_file_simply_starts() {
    let (_rt, wd, fake) = setup(7, FakeCrmOptions::default());
    let run = import(&wd, &fake, &["--resume"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_each_inserted_once(&fake, 7);
    // A dry run's results file may be replaced freely.
    let wd2 = Workdir::new();
    portfolio(&wd2, 3, 0);
    wd2.write("m.toml", MAPPING);
    for _ in 0..2 {
        let dry = wd2.run(&[
            "import",
            "cartera.csv",
            "--mapping",
            "m.toml",
            "--dry-run",
            "--output",
            "results.csv",
        ]);
        assert_eq!(dry.code, 0, "{dry:?}");
    }
}

/// SIGTERM once sending is under way (20 obligations stored): the run
/// drains what is in flight, writes every row and exits 130.
#[cfg(unix)]
#[test]
fn sigterm_drains_writes_everything_and_exits_130() {
    let (_rt, wd, fake) = setup(
        300,
        FakeCrmOptions {
            latency: Duration::from_millis(5),
            ..FakeCrmOptions::default()
        },
    );
    let mut child = Running::spawn(import_cmd(&wd, &fake, "results.csv", &[]));
    wait_until("20 obligations stored", || {
        assert!(child.is_running(), "ended early: {}", child.stderr());
        fake.stats().inserts >= 20
    });
    child.signal(libc::SIGTERM);
    let out = child.wait();
    assert_eq!(out.code, 130, "{out:?}");
    let counts = status_counts(&wd);
    let created = counts.get("created").copied().unwrap_or(0);
    assert!((20..300).contains(&created), "{counts:?}");
    assert_eq!(
        created + counts.get("not_sent").copied().unwrap_or(0),
        300,
        "{counts:?}"
    );
    assert_eq!(fake.stats().inserts as usize, created);
    // And --resume finishes the job.
    let run = import(&wd, &fake, &["--resume"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_each_inserted_once(&fake, 300);
}

/// The request cost of the guarantee: exactly one request per obligation on
/// a clean run, and at most 1.25 with 10% transient faults and 5% of
/// answers lost after the obligation was stored.
#[test]
fn requests_per_created_obligation_stay_low_under_faults() {
    let rt = runtime();
    let rows = 300;
    let mut figures = Vec::new();
    for (name, opts) in [
        ("clean", FakeCrmOptions::default()),
        (
            "10% transient + 5% drops",
            FakeCrmOptions {
                fail_rate: 0.05,
                busy_rate: 0.05,
                drop_after_commit_rate: 0.05,
                seed: 99,
                ..FakeCrmOptions::default()
            },
        ),
    ] {
        let wd = Workdir::new();
        portfolio(&wd, rows, 0);
        wd.write("m.toml", MAPPING);
        let fake = start(&rt, opts);
        let run = import(&wd, &fake, &["--no-preflight"]);
        assert_eq!(run.code, 0, "{name}: {run:?}");
        assert_each_inserted_once(&fake, rows);
        let per = fake.stats().requests as f64 / rows as f64;
        figures.push(format!("{name}: {per:.3} requests per created obligation"));
        if name == "clean" {
            assert_eq!(fake.stats().requests, rows as u64);
        } else {
            assert!(per <= 1.25, "{name}: {per}");
            assert!(
                fake.stats().queries > 0,
                "drops must have been settled by lookups"
            );
        }
    }
    eprintln!("{}", figures.join("\n"));
}

/// Requests the fake holds right now: counted on arrival, not yet carried
/// out (in its latency). For a run with no faults and no refusals. The
/// counters are read one by one, so a snapshot may count a request as
/// carried out but not as arrived: saturate, which can only understate.
fn held(s: &FakeCrmStats, preflights: u64) -> u64 {
    s.requests
        .saturating_sub(preflights + s.inserts + s.updates + s.queries)
}

/// The CRM goes away in the middle of a run and comes back on the same
/// address: requests refused meanwhile are retried, requests cut off are
/// looked up, and every row ends created exactly once (with `--resume` if
/// the run had to stop).
///
/// The CRM stops while it holds a request (so one is cut off), once 40
/// obligations are stored, and comes back once the import has met its
/// absence: it says it is looking a cut-off request up, or a write was
/// refused (`-v`), or it ended.
#[test]
fn the_crm_stopped_and_restarted_mid_run_loses_and_duplicates_nothing() {
    let rt = runtime();
    let wd = Workdir::new();
    let rows = 200;
    portfolio(&wd, rows, 0);
    wd.write("m.toml", MAPPING);
    let ledger = wd.path("ledger.jsonl");
    let opts = || FakeCrmOptions {
        latency: Duration::from_millis(10),
        ledger: Some(ledger.clone()),
        token: TOKEN.into(),
        ..FakeCrmOptions::default()
    };
    let fake = start(&rt, opts());
    let addr = fake.local_addr();
    let mut child = Running::spawn(import_cmd(&wd, &fake, "results.csv", &["-v"]));
    wait_until("40 obligations stored and a request held", || {
        assert!(child.is_running(), "ended early: {}", child.stderr());
        let s = fake.stats();
        s.inserts >= 40 && held(&s, 1) >= 1
    });
    let mark = child.stderr_mark();
    rt.block_on(fake.shutdown());
    wait_until("the import to meet the CRM's absence", || {
        let since = child.stderr_since(mark);
        since.contains("looking the obligation up")
            || since.contains("transient answer")
            || !child.is_running()
    });
    let fake = rt
        .block_on(FakeCrm::start(addr, opts()))
        .expect("restart on the same address");
    let first = child.wait();
    assert!(first.code == 0 || first.code == 3, "{first:?}");
    if first.code == 3 {
        let again = import(&wd, &fake, &["--resume"]);
        assert_eq!(again.code, 0, "{again:?}");
    }
    // The import carried on against the CRM that came back.
    assert!(fake.stats().inserts > 0, "{:?}", fake.stats());
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(results.len(), rows);
    assert!(
        results.iter().all(|r| r["status"] == "created"),
        "{:?}",
        status_counts(&wd)
    );
    assert_each_inserted_once(&fake, rows);
}

/// A base URL that points at the wrong path is found by the quota check,
/// before a single row is sent and refused for it.
#[test]
fn a_wrong_server_path_stops_the_run_before_any_row_is_sent() {
    let (_rt, wd, fake) = setup(6, FakeCrmOptions::default());
    let wrong = fake.base_url().replace("server/API/v2/", "wrong/");
    let run = Run::from(
        wd.command(&[
            "import",
            "cartera.csv",
            "--mapping",
            "m.toml",
            "--server",
            &wrong,
            "--output",
            "results.csv",
        ])
        .env("WOLKVOX_TOKEN", TOKEN)
        .output()
        .unwrap(),
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("check --server"), "{}", run.stderr);
    assert_eq!(status_counts(&wd).get("not_sent"), Some(&6));
    assert_eq!(fake.stats().requests, 1, "only the quota check");
}

/// A second Ctrl-C leaves at once, without waiting for the requests in
/// flight; the log still lets `--resume` finish without a duplicate.
///
/// The CRM stores each insert and never answers (within the hour), and the
/// client's timeout is longer than the test: an import that waited for its
/// requests in flight would never end, and one that leaves at once has made
/// no request beyond the two it was waiting for.
#[cfg(unix)]
#[test]
fn a_second_ctrl_c_leaves_at_once_and_resume_still_finishes_exactly_once() {
    let rt = runtime();
    let wd = Workdir::new();
    portfolio(&wd, 8, 0);
    wd.write("m.toml", MAPPING);
    let ledger = wd.path("ledger.jsonl");
    let stuck = start(
        &rt,
        FakeCrmOptions {
            slow_rate: 1.0,
            slow_delay: Duration::from_secs(3600),
            ledger: Some(ledger.clone()),
            ..FakeCrmOptions::default()
        },
    );
    let addr = stuck.local_addr();
    let mut child = Running::spawn(import_cmd(
        &wd,
        &stuck,
        "results.csv",
        &["--no-preflight", "--timeout", "30m"],
    ));
    wait_until("two inserts stored and waiting for their answers", || {
        assert!(child.is_running(), "ended early: {}", child.stderr());
        stuck.stats().inserts >= 2
    });
    child.signal(libc::SIGINT);
    // The first Ctrl-C is taken (it drains, which here never ends)...
    child.wait_for_stderr("interrupted");
    child.signal(libc::SIGINT);
    // ...and the second one leaves.
    let out = child.wait();
    assert_eq!(out.code, 130, "{out:?}");
    let s = stuck.stats();
    assert_eq!(
        (s.requests, s.inserts),
        (2, 2),
        "left with the two requests in flight unanswered, sending nothing else: {s:?}"
    );
    rt.block_on(stuck.shutdown());

    // The same CRM, answering again: the two stored obligations are found,
    // not inserted again.
    let fake = rt
        .block_on(FakeCrm::start(
            addr,
            FakeCrmOptions {
                token: TOKEN.into(),
                ledger: Some(ledger),
                ..FakeCrmOptions::default()
            },
        ))
        .expect("restart on the same address");
    let run = import(&wd, &fake, &["--resume", "--no-preflight"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_each_inserted_once(&fake, 8);
    assert_eq!(fake.stats().inserts, 6, "{:?}", fake.stats());
    assert!(fake.stats().queries >= 2, "{:?}", fake.stats());
}
