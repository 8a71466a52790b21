//! The outputs of a run, byte for byte. How a row is read, mapped and written
//! may change (for speed, say), but not a byte of what the CRM is sent or a
//! person reads: the payloads, results and rejects of the bench portfolio,
//! of a roughened copy of it, of a night-by-night sync against the fake CRM,
//! and of the samples must stay exactly what they were when these digests
//! were taken.
//!
//! A failing check prints every new digest, so a change of output that is
//! meant can be recorded here, in the same commit that explains it.

mod common;

#[allow(dead_code)]
#[path = "../examples/gen_portfolio.rs"]
mod gen_portfolio;

use common::{FakeServer, Workdir};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use wolkvox_import::fake_crm::FakeCrmOptions;

const TOKEN: &str = "outputs-test-token";

/// A file's size and xxh3-128 digest.
fn digest(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    format!(
        "{} bytes {:032x}",
        bytes.len(),
        xxhash_rust::xxh3::xxh3_128(&bytes)
    )
}

/// Compares every `(name, file)` digest with the expected one, and fails
/// listing all that differ with their new digests.
fn check(expected: &[(&str, &str)], got: &[(&str, PathBuf)]) {
    assert_eq!(expected.len(), got.len(), "one expected digest per output");
    let mut wrong = Vec::new();
    for ((name, want), (got_name, path)) in expected.iter().zip(got) {
        assert_eq!(name, got_name, "expected digests are listed in order");
        let have = digest(path);
        if have != *want {
            wrong.push(format!("    (\"{name}\", \"{have}\"),  // was \"{want}\""));
        }
    }
    assert!(
        wrong.is_empty(),
        "outputs changed:\n{}\n(all: {:?})",
        wrong.join("\n"),
        got.iter()
            .map(|(n, p)| format!("(\"{n}\", \"{}\")", digest(p)))
            .collect::<Vec<_>>()
    );
}

/// How many rows of a results file ended in each status.
fn tally(path: &Path) -> BTreeMap<String, usize> {
    let mut t = BTreeMap::new();
    for r in common::read_results(path) {
        *t.entry(r["status"].clone()).or_default() += 1;
    }
    t
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn bench_mapping(wd: &Workdir) -> PathBuf {
    let m = wd.path("portfolio.toml");
    std::fs::copy(repo("bench/portfolio.toml"), &m).expect("copy the bench mapping");
    m
}

/// A dry run: `import INPUT --mapping MAPPING --dry-run` and `extra`; the
/// exit code must be `code`.
fn dry_run(wd: &Workdir, input: &Path, mapping: &Path, extra: &[&str], code: i32) {
    let mut args = vec![
        "import",
        input.to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
        "--dry-run",
    ];
    args.extend_from_slice(extra);
    let run = wd.run(&args);
    assert_eq!(run.code, code, "{run:?}");
}

// ---------------------------------------------------------------------------
// The bench portfolio, as generated and roughened

/// Rewrites a generated portfolio with the faults and the text real files
/// hold, at fixed rows: duplicates, values that do not convert, text that
/// JSON must escape, quoted line breaks, blank lines, rows of the wrong
/// width, decorated amounts.
fn roughen(src: &Path, dst: &Path) {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_path(src)
        .unwrap();
    let mut out: Vec<u8> = Vec::new();
    let write = |out: &mut Vec<u8>, cells: &[String]| {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        w.write_record(cells).unwrap();
        out.extend_from_slice(&w.into_inner().unwrap());
    };
    let mut recent: Vec<(String, String)> = Vec::new();
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec.unwrap();
        let mut cells: Vec<String> = rec.iter().map(str::to_string).collect();
        if n == 0 {
            write(&mut out, &cells);
            continue;
        }
        let i = n - 1;
        recent.push((cells[0].clone(), cells[1].clone()));
        if recent.len() > 8 {
            recent.remove(0);
        }
        if i % 97 == 5 {
            // A duplicate of a row a few lines up.
            let (a, b) = recent[recent.len().saturating_sub(4)].clone();
            cells[0] = a;
            cells[1] = b;
        }
        if i % 101 == 7 {
            cells[3] = "12,34,5".into();
        }
        if i % 89 == 3 {
            cells[14] = "dijo \"mañana\" \\ C:\\ruta\ttab\u{1}\u{1f}\u{7f} – ok 😀 \u{2028}</script>\u{8}\u{c}"
                .into();
        }
        if i % 83 == 11 {
            cells[9] = "Ana\r\nMaría".into();
        }
        if i % 79 == 13 {
            cells[6] = "31/02/2024".into();
        }
        if i % 73 == 17 {
            cells[7] = "12,5".into();
        }
        if i % 71 == 19 {
            cells[2] = "   ".into();
        }
        if i % 67 == 23 {
            cells.push("de más".into());
        }
        if i % 53 == 31 {
            cells[4] = String::new();
            cells[5] = String::new();
        }
        if i % 59 == 2 {
            cells[3] = format!("$ {}", cells[3]);
            cells[12] = String::new();
        }
        if i % 43 == 8 {
            cells[11] = format!("  {}  ", cells[11]);
            cells[13] = "correo;con;puntoycoma@x.co".into();
        }
        if i % 113 == 41 {
            cells[0] = "R\"1\\x".into();
        }
        if i % 127 == 60 {
            cells[1] = String::new();
        }
        write(&mut out, &cells);
        if i % 61 == 29 {
            out.extend_from_slice(b"\r\n");
        }
    }
    std::fs::write(dst, out).unwrap();
}

#[test]
fn the_bench_portfolio_gives_the_same_payloads_and_results() {
    let wd = Workdir::new();
    let mapping = bench_mapping(&wd);
    let csv = wd.path("p20k.csv");
    gen_portfolio::write_csv(&csv, 20_000).unwrap();
    dry_run(
        &wd,
        &csv,
        &mapping,
        &["-o", "csv.results.csv", "--payloads", "csv.payloads.jsonl"],
        0,
    );
    let xlsx = wd.path("p20k.xlsx");
    gen_portfolio::write_xlsx(&xlsx, 20_000).unwrap();
    dry_run(
        &wd,
        &xlsx,
        &mapping,
        &[
            "-o",
            "xlsx.results.csv",
            "--payloads",
            "xlsx.payloads.jsonl",
        ],
        0,
    );
    let rough = wd.path("rough.csv");
    roughen(&csv, &rough);
    dry_run(
        &wd,
        &rough,
        &mapping,
        &[
            "-o",
            "rough.results.csv",
            "--payloads",
            "rough.payloads.jsonl",
            "--rejects",
            "rough.rejects.csv",
        ],
        1,
    );
    // The roughened file reaches every kind of row fault.
    let rough_results = std::fs::read_to_string(wd.path("rough.results.csv")).unwrap();
    for fault in [
        "duplicate of row",
        "is not a number",
        "is not a real date",
        "is not a whole number",
        "is empty",
        "cells but the header has",
    ] {
        assert!(rough_results.contains(fault), "no row says {fault:?}");
    }
    assert_eq!(tally(&wd.path("csv.results.csv"))["valid"], 20_000);
    check(
        &[
            (
                "csv.payloads",
                "11831856 bytes f4c15ee9ac1f7350d0f6f8305855be9b",
            ),
            (
                "csv.results",
                "1108992 bytes a88c021bf4b6e1ec5125979765848210",
            ),
            (
                "xlsx.payloads",
                "11831856 bytes f4c15ee9ac1f7350d0f6f8305855be9b",
            ),
            (
                "xlsx.results",
                "1108992 bytes a88c021bf4b6e1ec5125979765848210",
            ),
            (
                "rough.payloads",
                "10683022 bytes 89f18e12b058713dce39e0408cbbac23",
            ),
            (
                "rough.results",
                "1227999 bytes d3dfc7205ebc98a328565aec1fa74ae5",
            ),
            (
                "rough.rejects",
                "536412 bytes 5e4bcefbe06d7385d9a59e2a681b2c90",
            ),
        ],
        &[
            ("csv.payloads", wd.path("csv.payloads.jsonl")),
            ("csv.results", wd.path("csv.results.csv")),
            ("xlsx.payloads", wd.path("xlsx.payloads.jsonl")),
            ("xlsx.results", wd.path("xlsx.results.csv")),
            ("rough.payloads", wd.path("rough.payloads.jsonl")),
            ("rough.results", wd.path("rough.results.csv")),
            ("rough.rejects", wd.path("rough.rejects.csv")),
        ],
    );
}

/// Three nights of the bench portfolio against the fake CRM, one request at
/// a time so the CRM's ids come in row order: an insert of 2,000 rows; a
/// sync of a roughened file of 2,100 with changed balances (planned by a
/// dry run first); the same sync again, where nothing changed.
#[test]
fn a_sync_night_by_night_gives_the_same_outputs() {
    let wd = Workdir::new();
    let mapping = bench_mapping(&wd);
    let fake = FakeServer::start(FakeCrmOptions {
        token: TOKEN.into(),
        ..FakeCrmOptions::default()
    });
    let base = fake.base_url();
    let ledger = wd.path("ledger.sqlite");
    let send = |input: &Path, name: &str, mode: &str, code: i32| {
        let results = format!("{name}.results.csv");
        let payloads = format!("{name}.payloads.jsonl");
        let rejects = format!("{name}.rejects.csv");
        let run = wd
            .command(&[
                "import",
                input.to_str().unwrap(),
                "--mapping",
                mapping.to_str().unwrap(),
                "--server",
                &base,
                "--ledger",
                ledger.to_str().unwrap(),
                "--mode",
                mode,
                "--concurrency",
                "1",
                "-o",
                &results,
                "--payloads",
                &payloads,
                "--rejects",
                &rejects,
            ])
            .env("WOLKVOX_TOKEN", TOKEN)
            .output()
            .expect("run the import");
        let run = common::Run::from(run);
        assert_eq!(run.code, code, "{run:?}");
    };

    let night1 = wd.path("night1.csv");
    gen_portfolio::write_csv(&night1, 2_000).unwrap();
    send(&night1, "night1", "insert", 0);

    // The first 2,000 rows are night 1's (the generator is sequential), a
    // seventh of them with a new balance, then roughened.
    let generated = wd.path("night2-generated.csv");
    gen_portfolio::write_csv(&generated, 2_100).unwrap();
    let text = std::fs::read_to_string(&generated).unwrap();
    let changed: String = text
        .split_inclusive("\r\n")
        .enumerate()
        .map(|(n, line)| {
            if n > 0 && (n - 1) % 7 == 0 {
                let mut cells: Vec<&str> = line.split(';').collect();
                cells[3] = "4.321,00";
                cells.join(";")
            } else {
                line.to_string()
            }
        })
        .collect();
    let changed_path = wd.write("night2-changed.csv", changed);
    let night2 = wd.path("night2.csv");
    roughen(&changed_path, &night2);
    let ledger_arg = ledger.to_str().unwrap().to_string();
    dry_run(
        &wd,
        &night2,
        &mapping,
        &[
            "--mode",
            "sync",
            "--server",
            &base,
            "--ledger",
            &ledger_arg,
            "-o",
            "plan.results.csv",
            "--payloads",
            "plan.payloads.jsonl",
        ],
        1,
    );
    send(&night2, "night2", "sync", 1);
    send(&night2, "night3", "sync", 1);
    // Each night reaches what it is meant to.
    let t = tally(&wd.path("night2.results.csv"));
    for status in ["created", "updated", "unchanged", "invalid"] {
        assert!(t.get(status).copied().unwrap_or(0) > 0, "night 2: {t:?}");
    }
    let t = tally(&wd.path("night3.results.csv"));
    assert_eq!(
        t.keys().map(String::as_str).collect::<Vec<_>>(),
        ["invalid", "unchanged"],
        "night 3: {t:?}"
    );
    check(
        &[
            (
                "night1.results",
                "136990 bytes 6117967ad8d20f303b3a9349e3bd8af8",
            ),
            (
                "night1.payloads",
                "1180112 bytes dcad84ab257ef83b790a800e5dc6fd73",
            ),
            (
                "plan.results",
                "126896 bytes d271f01a1bc1a926457cb503efeea58b",
            ),
            (
                "plan.payloads",
                "271175 bytes 401c652ab271739c61d04847e62070ec",
            ),
            (
                "night2.results",
                "147712 bytes 3f8d8c908a702fb282a72b10c7e1e474",
            ),
            (
                "night2.payloads",
                "271175 bytes 401c652ab271739c61d04847e62070ec",
            ),
            (
                "night2.rejects",
                "56595 bytes cf55977773ab353c9a743efd326dea8f",
            ),
            (
                "night3.results",
                "145856 bytes 35d615e213025c262503609256866d28",
            ),
            (
                "night3.payloads",
                "0 bytes 99aa06d3014798d86001c324468d497f",
            ),
            (
                "night3.rejects",
                "56595 bytes cf55977773ab353c9a743efd326dea8f",
            ),
        ],
        &[
            ("night1.results", wd.path("night1.results.csv")),
            ("night1.payloads", wd.path("night1.payloads.jsonl")),
            ("plan.results", wd.path("plan.results.csv")),
            ("plan.payloads", wd.path("plan.payloads.jsonl")),
            ("night2.results", wd.path("night2.results.csv")),
            ("night2.payloads", wd.path("night2.payloads.jsonl")),
            ("night2.rejects", wd.path("night2.rejects.csv")),
            ("night3.results", wd.path("night3.results.csv")),
            ("night3.payloads", wd.path("night3.payloads.jsonl")),
            ("night3.rejects", wd.path("night3.rejects.csv")),
        ],
    );
}

// ---------------------------------------------------------------------------
// The samples

#[test]
fn the_samples_give_the_same_payloads_results_and_rejects() {
    let wd = Workdir::new();
    let mut got = Vec::new();
    for input in ["cartera.csv", "cartera.xlsx"] {
        for mapping in ["cartera", "cartera-con-expedientes"] {
            let name = format!("{input}.{mapping}");
            let is_workbook = input.ends_with(".xlsx");
            let rejects_ext = if is_workbook { "xlsx" } else { "csv" };
            dry_run(
                &wd,
                &repo(&format!("samples/{input}")),
                &repo(&format!("mappings/{mapping}.toml")),
                &[
                    "-o",
                    &format!("{name}.results.csv"),
                    "--payloads",
                    &format!("{name}.payloads.jsonl"),
                    "--rejects",
                    &format!("{name}.rejects.{rejects_ext}"),
                ],
                1,
            );
            got.push((name.clone(), "results", format!("{name}.results.csv")));
            got.push((name.clone(), "payloads", format!("{name}.payloads.jsonl")));
            // A workbook's rejects are a workbook, whose zip holds a
            // timestamp: its cells are compared as CSV instead.
            let rejects = if is_workbook {
                let csv = format!("{name}.rejects.cells.csv");
                workbook_as_csv(&wd.path(&format!("{name}.rejects.xlsx")), &wd.path(&csv));
                csv
            } else {
                format!("{name}.rejects.csv")
            };
            got.push((name, "rejects", rejects));
        }
    }
    let labels: Vec<String> = got.iter().map(|(n, k, _)| format!("{n}.{k}")).collect();
    let got: Vec<(&str, PathBuf)> = labels
        .iter()
        .zip(&got)
        .map(|(l, (_, _, f))| (l.as_str(), wd.path(f)))
        .collect();
    check(
        &[
            (
                "cartera.csv.cartera.results",
                "2102 bytes 960e3868c8ec337a14ccc03a5a32f34e",
            ),
            (
                "cartera.csv.cartera.payloads",
                "34377 bytes fdf24a071694c0a6778c6e6bbd950646",
            ),
            (
                "cartera.csv.cartera.rejects",
                "2408 bytes cf0a15887e51a5288a5b219edfd9f2d1",
            ),
            (
                "cartera.csv.cartera-con-expedientes.results",
                "2854 bytes 5458ffebc81ea42616f9000bd35a1326",
            ),
            (
                "cartera.csv.cartera-con-expedientes.payloads",
                "35017 bytes d8ae289defa5bbbea7ce770296df0189",
            ),
            (
                "cartera.csv.cartera-con-expedientes.rejects",
                "2424 bytes 4b2fec5d390c47113bc1b641a58230dc",
            ),
            (
                "cartera.xlsx.cartera.results",
                "1932 bytes 579d03db0ed3fccbc80e0218d3ba1d18",
            ),
            (
                "cartera.xlsx.cartera.payloads",
                "34118 bytes 7a2c8efa2392aa6935e0fce07d8e44ee",
            ),
            (
                "cartera.xlsx.cartera.rejects",
                "2674 bytes 1eb61924af99425f3d64cc939f8ec34f",
            ),
            (
                "cartera.xlsx.cartera-con-expedientes.results",
                "2684 bytes 54100e466fcbeb77fa8230bf50e3510b",
            ),
            (
                "cartera.xlsx.cartera-con-expedientes.payloads",
                "34758 bytes bb345105738751bb26d7eec3f783fe11",
            ),
            (
                "cartera.xlsx.cartera-con-expedientes.rejects",
                "2690 bytes 664d1ce01d249c79a2dce918fcb1734e",
            ),
        ],
        &got,
    );
}

/// Every cell of a workbook's first sheet, as CSV: the data of a rejects
/// workbook without its zip's timestamps.
fn workbook_as_csv(xlsx: &Path, out: &Path) {
    use calamine::{open_workbook_auto, Data, Reader};
    let mut wb = open_workbook_auto(xlsx).unwrap_or_else(|e| panic!("{}: {e}", xlsx.display()));
    let sheet = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&sheet).unwrap();
    let mut w = csv::Writer::from_path(out).unwrap();
    for row in range.rows() {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Data::String(s) => format!("s:{s}"),
                Data::Empty => String::new(),
                other => format!("v:{other}"),
            })
            .collect();
        w.write_record(&cells).unwrap();
    }
    w.flush().unwrap();
}
