//! Never lose or duplicate an obligation: crashes and --resume, lookups
//! after timeouts, the daily quota, update and upsert modes, and the guards
//! around the results file. Each test runs the real binary against the fake
//! CRM on loopback and checks the fake's ledger as well as the results.

mod common;

use common::{read_results, Run, Workdir};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use wolkvox_import::fake_crm::{FakeCrm, FakeCrmOptions};

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
    Run::from(
        wd.command(&args)
            .env("WOLKVOX_TOKEN", TOKEN)
            .output()
            .unwrap(),
    )
}

/// Starts an import in the background, its output captured.
fn spawn_import(wd: &Workdir, base: &str, extra: &[&str]) -> std::process::Child {
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
    wd.command(&args)
        .env("WOLKVOX_TOKEN", TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
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

#[test]
fn killed_at_random_moments_then_resumed_nothing_is_lost_or_duplicated() {
    let rt = runtime();
    let rows = 1200;
    let mut total_dups = 0;
    let mut total_lost = 0;
    for (trial, seed) in [11u64, 22, 33].into_iter().enumerate() {
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
        // Kill at moments spread over the run, each resuming the one before.
        for (k, ms) in [250u64, 500, 800].iter().enumerate() {
            let mut child = spawn_import(&wd, &fake.base_url(), &["--resume"]);
            std::thread::sleep(Duration::from_millis(ms + 97 * (trial as u64 + k as u64)));
            child.kill().unwrap(); // SIGKILL: no chance to clean up
            child.wait().unwrap();
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

#[test]
fn sigterm_drains_writes_everything_and_exits_130() {
    let (_rt, wd, fake) = setup(
        300,
        FakeCrmOptions {
            latency: Duration::from_millis(20),
            ..FakeCrmOptions::default()
        },
    );
    let base = fake.base_url();
    let child = spawn_import(&wd, &base, &[]);
    std::thread::sleep(Duration::from_millis(700));
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = Run::from(child.wait_with_output().unwrap());
    assert_eq!(out.code, 130, "{out:?}");
    let counts = status_counts(&wd);
    let created = counts.get("created").copied().unwrap_or(0);
    assert!(created > 0 && created < 300, "{counts:?}");
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

/// The CRM goes away in the middle of a run and comes back on the same
/// address: requests refused meanwhile are retried, requests cut off are
/// looked up, and every row ends created exactly once (with `--resume` if
/// the run had to stop).
#[test]
fn the_crm_stopped_and_restarted_mid_run_loses_and_duplicates_nothing() {
    let rt = runtime();
    let wd = Workdir::new();
    let rows = 400;
    portfolio(&wd, rows, 0);
    wd.write("m.toml", MAPPING);
    let ledger = wd.path("ledger.jsonl");
    let opts = || FakeCrmOptions {
        latency: Duration::from_millis(5),
        ledger: Some(ledger.clone()),
        token: TOKEN.into(),
        ..FakeCrmOptions::default()
    };
    let fake = start(&rt, opts());
    let addr = fake.local_addr();
    let base = fake.base_url();
    let child = spawn_import(&wd, &base, &[]);
    std::thread::sleep(Duration::from_millis(400));
    rt.block_on(fake.shutdown());
    std::thread::sleep(Duration::from_millis(1500));
    let fake = rt
        .block_on(FakeCrm::start(addr, opts()))
        .expect("restart on the same address");
    let first = Run::from(child.wait_with_output().unwrap());
    assert!(first.code == 0 || first.code == 3, "{first:?}");
    if first.code == 3 {
        let again = import(&wd, &fake, &["--resume"]);
        assert_eq!(again.code, 0, "{again:?}");
    }
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
#[test]
fn a_second_ctrl_c_leaves_at_once_and_resume_still_finishes_exactly_once() {
    let (_rt, wd, fake) = setup(
        8,
        FakeCrmOptions {
            latency: Duration::from_millis(1000),
            ..FakeCrmOptions::default()
        },
    );
    let child = spawn_import(&wd, &fake.base_url(), &["--no-preflight"]);
    std::thread::sleep(Duration::from_millis(600));
    let pid = child.id().to_string();
    let interrupt = || {
        assert!(std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
    };
    interrupt();
    std::thread::sleep(Duration::from_millis(100));
    let second = std::time::Instant::now();
    interrupt();
    let out = Run::from(child.wait_with_output().unwrap());
    assert_eq!(out.code, 130, "{out:?}");
    // The requests in flight take 1 s; leaving at once does not wait.
    assert!(
        second.elapsed() < Duration::from_millis(700),
        "took {:?}",
        second.elapsed()
    );
    // Let the cut-off requests land in the CRM, then finish the job.
    std::thread::sleep(Duration::from_millis(1100));
    let run = import(&wd, &fake, &["--resume", "--no-preflight"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_each_inserted_once(&fake, 8);
}
