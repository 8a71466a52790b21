//! Input that nobody on this project wrote (`../shared/corpus`, see its
//! README): the csv-spectrum acid tests read through the library, and
//! calamine's own test workbooks (dates in both systems, error cells,
//! password-protected, empty and deliberately malformed files) through the
//! binary. Every workbook must either read or be refused with a message that
//! names it; none may crash, hang or use unbounded memory.

mod common;

use common::{read_results, Workdir};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wolkvox_import::source::{Source, SourceOptions};
use wolkvox_import::value::CellRef;

/// A run of the binary that is killed when it outlives this.
const TIMEOUT: Duration = Duration::from_secs(20);
/// Peak resident memory allowed to one run on a corpus file.
const MEMORY_LIMIT_KB: u64 = 1024 * 1024;

fn files_in(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| exts.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    files.sort();
    files
}

/// The records of a CSV as `header → text` maps, with each row's number.
fn read_with_library(path: &Path) -> (Vec<String>, Vec<(u64, Vec<String>)>) {
    let mut source = Source::open(path, &SourceOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = source.header().names.clone();
    let mut rows = Vec::new();
    while let Some(row) = source
        .next_row()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    {
        assert_eq!(
            row.problem,
            None,
            "{} row {}: a clean file reads without problems",
            path.display(),
            row.number
        );
        let cells = (0..row.len())
            .map(|i| match row.get(i) {
                CellRef::Empty => String::new(),
                CellRef::Text(s) => s.to_string(),
                other => panic!("{}: a CSV cell is text, got {other:?}", path.display()),
            })
            .collect();
        rows.push((row.number, cells));
    }
    (header, rows)
}

#[test]
fn csv_spectrum_reads_as_its_json_says() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let dir = corpus.join("csv-spectrum");
    let csvs = files_in(&dir.join("csvs"), &["csv"]);
    assert!(csvs.len() >= 12, "the suite has 12 files: {csvs:?}");
    for csv in &csvs {
        let name = csv.file_stem().unwrap().to_str().unwrap();
        let (header, rows) = read_with_library(csv);
        if name == "location_coordinates" {
            // Upstream's JSON differs from its CSV (see the corpus README):
            // a clean read of one four-column record is what counts.
            assert_eq!(header.len(), 4, "{name}: {header:?}");
            assert_eq!(header[0], "Contact Phone Number");
            assert_eq!(rows.len(), 1, "{name}");
            assert_eq!(rows[0].1.len(), 4, "{name}");
            assert_eq!(rows[0].1[2], "Modesto");
            continue;
        }
        let json_path = dir.join("json").join(format!("{name}.json"));
        let text = std::fs::read_to_string(&json_path)
            .unwrap_or_else(|e| panic!("{}: {e}", json_path.display()));
        let expected: Vec<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}.json: {e}"));
        assert_eq!(rows.len(), expected.len(), "{name}: {rows:?}");
        for ((number, cells), want) in rows.iter().zip(&expected) {
            let got: serde_json::Map<String, serde_json::Value> = header
                .iter()
                .cloned()
                .zip(cells.iter().map(|c| serde_json::Value::String(c.clone())))
                .collect();
            assert_eq!(&got, want, "{name}, row {number}");
        }
        // No blank lines in the suite: rows are 2, 3, … however many line
        // breaks their quoted fields hold.
        let numbers: Vec<u64> = rows.iter().map(|(n, _)| *n).collect();
        let want: Vec<u64> = (2..2 + rows.len() as u64).collect();
        assert_eq!(numbers, want, "{name}");
    }
}

/// What one bounded run of the binary did.
struct Bounded {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    /// Peak resident set seen while polling, in KiB (Linux only).
    peak_kb: u64,
    timed_out: bool,
}

impl std::fmt::Debug for Bounded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?} after {:?} (peak {} KiB{})\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.elapsed,
            self.peak_kb,
            if self.timed_out {
                ", killed: timeout"
            } else {
                ""
            },
            self.stdout,
            self.stderr
        )
    }
}

/// Runs the binary with its output going to files (a full pipe must not
/// look like a hang), polling its memory, and kills it after `TIMEOUT`.
fn run_bounded(wd: &Workdir, tag: &str, args: &[&str]) -> Bounded {
    let out_path = wd.path(&format!("{tag}.stdout"));
    let err_path = wd.path(&format!("{tag}.stderr"));
    let mut cmd: Command = wd.command(args);
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn the binary");
    let mut peak_kb = 0;
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        peak_kb = peak_kb.max(resident_kb(child.id()));
        if started.elapsed() > TIMEOUT || peak_kb > MEMORY_LIMIT_KB {
            timed_out = started.elapsed() > TIMEOUT;
            // Only this child, by its handle.
            let _ = child.kill();
            break child.wait().expect("wait after kill");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Bounded {
        code: status.code(),
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: String::from_utf8_lossy(&std::fs::read(&err_path).unwrap_or_default()).into_owned(),
        elapsed: started.elapsed(),
        peak_kb,
        timed_out,
    }
}

/// The process's peak resident set so far, from /proc (0 where unknown).
fn resident_kb(pid: u32) -> u64 {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The contract for a file nobody here wrote: a clean exit code, no panic,
/// no hang, bounded memory, and a refusal that names the file.
fn check_run(file: &Path, what: &str, run: &Bounded) {
    let name = file.file_name().unwrap().to_string_lossy();
    assert!(!run.timed_out, "{name}: {what} hung: {run:?}");
    assert!(
        run.peak_kb <= MEMORY_LIMIT_KB,
        "{name}: {what} used more than {MEMORY_LIMIT_KB} KiB: {run:?}"
    );
    assert!(
        !run.stderr.contains("panicked"),
        "{name}: {what} panicked: {run:?}"
    );
    assert!(
        matches!(run.code, Some(0..=2)),
        "{name}: {what} must exit 0, 1 or 2: {run:?}"
    );
    if run.code == Some(2) {
        assert!(
            run.stderr.contains(name.as_ref()),
            "{name}: {what} must name the file it refuses: {run:?}"
        );
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[test]
fn calamine_workbooks_read_or_are_refused_cleanly() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let files = files_in(
        &corpus.join("calamine"),
        &["xlsx", "xlsm", "xlsb", "xls", "ods"],
    );
    assert!(files.len() >= 30, "{files:?}");
    let wd = Workdir::new();
    wd.write(
        "trivial.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n",
    );
    let mut read = 0;
    for (i, file) in files.iter().enumerate() {
        let input = file.to_str().unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();

        let inspect = run_bounded(&wd, &format!("{i}-inspect"), &["inspect", input]);
        check_run(file, "inspect", &inspect);

        // Outputs go to the work folder: the corpus is read-only.
        let results = format!("{i}.results.csv");
        let rejects = format!("{i}.rejects.csv");
        let trivial = run_bounded(
            &wd,
            &format!("{i}-trivial"),
            &[
                "import",
                input,
                "--mapping",
                "trivial.toml",
                "--dry-run",
                "--output",
                &results,
                "--rejects",
                &rejects,
            ],
        );
        check_run(file, "a dry run with a trivial mapping", &trivial);

        if inspect.code != Some(0) {
            eprintln!("{name}: refused: {}", inspect.stderr.trim());
            // Refused by inspect: the dry run must be refused just the same.
            assert_eq!(trivial.code, Some(2), "{name}: {trivial:?}");
            continue;
        }
        // inspect read the whole sheet within bounds, so opening it here is
        // safe: a mapping on its own first columns makes the dry run read and
        // map every row.
        let source = Source::open(file, &SourceOptions::default())
            .unwrap_or_else(|e| panic!("{name}: inspect read it, the library cannot: {e}"));
        // A mapping cannot name a column whose name another shares, nor
        // send both in form: those are named only to be left out.
        let header = source.header();
        let names: Vec<&String> = (0..header.names.len())
            .filter(|&i| !header.names[i].trim().is_empty() && header.same_name_as(i).is_empty())
            .map(|i| &header.names[i])
            .collect();
        let shared: Vec<String> = header
            .same_names()
            .iter()
            .map(|g| toml_string(&header.names[g[0]]))
            .collect();
        let Some(first) = names.first() else {
            continue;
        };
        let second = names.get(1).unwrap_or(first);
        let mapping = format!("{i}.toml");
        wd.write(
            &mapping,
            format!(
                "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = {}\nid = {}\n\
                 [form]\nexclude = [{}]\n",
                toml_string(first),
                toml_string(second),
                shared.join(", ")
            ),
        );
        let fitted_results = format!("{i}.fitted.results.csv");
        let fitted = run_bounded(
            &wd,
            &format!("{i}-fitted"),
            &[
                "import",
                input,
                "--mapping",
                &mapping,
                "--dry-run",
                "--output",
                &fitted_results,
                "--rejects",
                &rejects,
                "--payloads",
                &format!("{i}.payloads.jsonl"),
            ],
        );
        check_run(file, "a dry run on its own header", &fitted);
        assert_ne!(fitted.code, Some(2), "{name}: the header fits: {fitted:?}");
        // One results line per data row, as inspect counted them.
        let rows = inspect
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("data rows: "))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .unwrap_or_else(|| panic!("{name}: no row count: {inspect:?}"));
        let lines = read_results(&wd.path(&fitted_results));
        assert_eq!(lines.len(), rows, "{name}: {fitted:?}");
        let numbers: Vec<u64> = lines.iter().map(|l| l["row"].parse().unwrap()).collect();
        assert!(
            numbers.windows(2).all(|w| w[0] < w[1]),
            "{name}: rows sorted and unique: {numbers:?}"
        );
        assert!(
            numbers.first().is_none_or(|&r| r > source.header().row),
            "{name}: data rows come after the header row"
        );
        eprintln!(
            "{name}: {rows} rows, dry run exit {:?}, peak {} KiB",
            fitted.code, fitted.peak_kb
        );
        read += 1;
    }
    assert!(read >= 20, "most of the corpus reads: only {read} did");
}

/// A workbook with two columns of one name is shown by inspect, which marks
/// them, and mapping init writes a mapping that leaves them out.
#[test]
fn calamine_workbook_with_two_columns_of_one_name_is_shown() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let path = corpus.join("calamine").join("ptgexp-truncated-operand.xls");
    if !path.exists() {
        eprintln!("notice: {} is absent; skipped", path.display());
        return;
    }
    let input = path.to_str().unwrap();
    let wd = Workdir::new();
    let inspect = run_bounded(&wd, "inspect", &["inspect", input]);
    check_run(&path, "inspect", &inspect);
    assert_eq!(inspect.code, Some(0), "{inspect:?}");
    assert!(
        inspect
            .stdout
            .contains("warning: 2 columns have the same name, \"Donee\" (column F, column G)")
            && inspect.stdout.contains("\"Donee\"  text")
            && inspect.stdout.contains("(same name as column G)"),
        "{inspect:?}"
    );
    let init = run_bounded(&wd, "init", &["mapping", "init", input]);
    check_run(&path, "mapping init", &init);
    assert_eq!(init.code, Some(0), "{init:?}");
    assert!(
        init.stdout.contains("\nexclude = [\"Donee\"]\n"),
        "{init:?}"
    );
}

#[test]
fn calamine_workbooks_the_importer_refuses_say_why() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let dir = corpus.join("calamine");
    let wd = Workdir::new();
    for (file, says) in [
        ("pass_protected.xlsx", "password-protected"),
        ("pass_protected.ods", "password-protected"),
        ("too_small.xls", "rename it to .csv"),
        ("empty_sheet.xlsx", "no header row"),
    ] {
        let path = dir.join(file);
        if !path.exists() {
            eprintln!("notice: {} is absent; skipped", path.display());
            continue;
        }
        let run = run_bounded(&wd, file, &["inspect", path.to_str().unwrap()]);
        check_run(&path, "inspect", &run);
        assert_eq!(run.code, Some(2), "{file}: {run:?}");
        assert!(run.stderr.contains(says), "{file}: {run:?}");
    }
}

#[test]
fn calamine_dates_agree_across_formats_and_date_systems() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let dir = corpus.join("calamine");
    let wd = Workdir::new();
    // Column A holds dates (its header cell is one too), column B numbers.
    wd.write(
        "m.toml",
        r#"
[request]
operation = "x"
[fields]
wolkvox_id = { value = "W1" }
id = { column = "15", type = "integer" }
expiring_date = { column = "2021-01-01", type = "date" }
"#,
    );
    for file in ["date.xlsx", "date_1904.xlsx", "date.xls", "date.xlsb"] {
        let path = dir.join(file);
        if !path.exists() {
            eprintln!("notice: {} is absent; skipped", path.display());
            continue;
        }
        let results = format!("{file}.results.csv");
        let payloads = format!("{file}.payloads.jsonl");
        let run = run_bounded(
            &wd,
            file,
            &[
                "import",
                path.to_str().unwrap(),
                "--mapping",
                "m.toml",
                "--dry-run",
                "--output",
                &results,
                "--payloads",
                &payloads,
            ],
        );
        check_run(&path, "a dry run", &run);
        let bodies = common::read_jsonl(&wd.path(&payloads));
        let first = bodies
            .iter()
            .find(|p| p["row"] == 2)
            .unwrap_or_else(|| panic!("{file}: row 2 is valid: {run:?}\n{bodies:?}"));
        assert_eq!(
            first["body"]["fields"]["expiring_date"], "02-01-2021",
            "{file}"
        );
        assert_eq!(first["body"]["fields"]["id"], "16", "{file}");
        // A time of day alone is not a date: that row is refused, naming the column.
        let lines = read_results(&wd.path(&results));
        let row3 = lines
            .iter()
            .find(|l| l["row"] == "3")
            .unwrap_or_else(|| panic!("{file}: {lines:?}"));
        assert_eq!(row3["status"], "invalid", "{file}");
        assert!(
            row3["error"].contains("column \"2021-01-01\""),
            "{file}: {row3:?}"
        );
    }
}
