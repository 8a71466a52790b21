//! Helpers for the reading, mapping and dry-run tests (`tests/readers.rs`,
//! `tests/dry_run.rs`): run a dry run with every output asked for and read
//! the outputs back as data; write small workbooks.
//!
//! Kept apart from `tests/common` so that those tests own their helpers and
//! `common` stays the small shared core.
#![allow(dead_code)]

use crate::common::{read_jsonl, read_results, ResultRow, Run, Workdir};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// A dry run's outputs, read back as data.
pub struct DryRun {
    pub run: Run,
    /// The results file's lines; empty when the run wrote no results file.
    pub results: Vec<ResultRow>,
    /// The payload lines; empty when the run wrote none.
    pub payloads: Vec<Value>,
    /// Where the rejects were asked to go.
    pub rejects: std::path::PathBuf,
}

impl DryRun {
    /// `(row, status)` of each results line, in file order.
    pub fn statuses(&self) -> Vec<(u64, String)> {
        self.results
            .iter()
            .map(|r| (r["row"].parse().unwrap(), r["status"].clone()))
            .collect()
    }

    /// The results line of `row`.
    pub fn result(&self, row: u64) -> &ResultRow {
        let wanted = row.to_string();
        self.results
            .iter()
            .find(|r| r["row"] == wanted)
            .unwrap_or_else(|| panic!("no results line for row {row}:\n{:#?}", self.results))
    }

    /// The `error` of the results line of `row`.
    pub fn error(&self, row: u64) -> &str {
        &self.result(row)["error"]
    }

    /// The body that would be sent for `row`.
    pub fn body(&self, row: u64) -> &Value {
        self.payloads
            .iter()
            .find(|p| p["row"] == row)
            .map(|p| &p["body"])
            .unwrap_or_else(|| panic!("no payload for row {row}:\n{:#?}", self.payloads))
    }

    /// The rows that have a payload, in file order.
    pub fn payload_rows(&self) -> Vec<u64> {
        self.payloads
            .iter()
            .map(|p| p["row"].as_u64().expect("row is a number"))
            .collect()
    }
}

/// Runs `import INPUT --mapping MAPPING --dry-run` (plus `extra`), with the
/// results, payloads and rejects going next to the input as
/// `STEM.results.csv`, `STEM.payloads.jsonl` and `STEM.rejects.csv`, and
/// reads results and payloads back. Old outputs are removed first, so a file
/// that is absent afterwards was not written.
pub fn dry_run(wd: &Workdir, input: &str, mapping: &str, extra: &[&str]) -> DryRun {
    let stem = Path::new(input)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let results = format!("{stem}.results.csv");
    let payloads = format!("{stem}.payloads.jsonl");
    let rejects = format!("{stem}.rejects.csv");
    for f in [&results, &payloads, &rejects] {
        let _ = std::fs::remove_file(wd.path(f));
    }
    let mut args = vec![
        "import",
        input,
        "--mapping",
        mapping,
        "--dry-run",
        "--output",
        &results,
        "--payloads",
        &payloads,
        "--rejects",
        &rejects,
    ];
    args.extend_from_slice(extra);
    let run = wd.run(&args);
    assert!(
        !run.stderr.contains("panicked"),
        "the binary panicked:\n{run:?}"
    );
    let results_path = wd.path(&results);
    let payloads_path = wd.path(&payloads);
    DryRun {
        results: if results_path.exists() {
            read_results(&results_path)
        } else {
            Vec::new()
        },
        payloads: if payloads_path.exists() {
            read_jsonl(&payloads_path)
        } else {
            Vec::new()
        },
        rejects: wd.path(&rejects),
        run,
    }
}

/// Reads a CSV written in `encoding` with `delimiter` into rows of cells,
/// header included. A leading BOM is stripped; blank lines are skipped.
pub fn read_csv_table(
    path: &Path,
    delimiter: u8,
    encoding: &'static encoding_rs::Encoding,
) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (text, _, had_errors) = encoding.decode(&bytes);
    assert!(
        !had_errors,
        "{} is not valid {}",
        path.display(),
        encoding.name()
    );
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    rdr.records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The `fields` member of a body, as `name → value` for the eight API fields
/// (every one must be a string) and the `form` list as `(name, value)` pairs.
pub fn fields_of(body: &Value) -> (BTreeMap<String, String>, Vec<(String, String)>) {
    let fields = body["fields"]
        .as_object()
        .unwrap_or_else(|| panic!("fields is not an object: {body}"));
    let mut plain = BTreeMap::new();
    let mut form = Vec::new();
    for (k, v) in fields {
        if k == "form" {
            for entry in v.as_array().expect("form is a list") {
                let obj = entry.as_object().expect("form entry is an object");
                assert_eq!(obj.len(), 2, "form entry has name and value only: {entry}");
                form.push((
                    obj["name"].as_str().expect("name is a string").to_string(),
                    obj["value"]
                        .as_str()
                        .expect("value is a string")
                        .to_string(),
                ));
            }
        } else {
            plain.insert(
                k.clone(),
                v.as_str()
                    .unwrap_or_else(|| panic!("field {k} is not a string: {body}"))
                    .to_string(),
            );
        }
    }
    (plain, form)
}

/// The `form` of a body as `(name, value)` pairs.
pub fn form_of(body: &Value) -> Vec<(String, String)> {
    fields_of(body).1
}

/// `(name, value)` pairs from string literals, for comparing forms.
pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A `name → value` map from string literals, for comparing fields.
pub fn map(items: &[(&str, &str)]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}
