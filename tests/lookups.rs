//! Lookup tables end to end through the real binary: a records export (CSV
//! or workbook) gives each row its `wolkvox_id`; a lookup file that is
//! missing, lacks its key column or contradicts itself stops the run before
//! any row is read; `mapping init --lookup` proposes the join; and the
//! bundled sample mapping joins the sample portfolio to its records.

mod common;
mod dry_run_support;

use common::Workdir;
use dry_run_support::{dry_run, fields_of, DryRun};
use std::collections::BTreeMap;
use std::path::Path;

/// A bank's `;`-delimited portfolio: documents written four ways.
const PORTFOLIO: &str = "Cédula;Nro Obligación;Saldo Total\r\n\
    1.020.345.678;OB-1;1.000,00\r\n\
    0098765432;OB-2;2.000,00\r\n\
    55.555.555;OB-3;3.000,00\r\n\
    98765432;OB-4;4.000,00\r\n";

/// The CRM's records export, as a UTF-8 CSV with a byte-order mark and `,`.
const RECORDS: &str = "\u{feff}wolkvox_id,Nombre,Identificación\r\n\
    61fa3,Sofía Gómez,1020345678\r\n\
    7b2c1,\"Núñez, Lucía\",98765432\r\n\
    90aa0,Otro Cliente,11111111\r\n";

fn mapping(lookup: &str) -> String {
    format!(
        r#"
[source]
decimal_separator = ","

[request]
operation = "cobranza"

{lookup}

[fields]
wolkvox_id = {{ column = "Cédula", lookup = "expedientes" }}
id = "Nro Obligación"
total_balance = {{ column = "Saldo Total", type = "number" }}
"#
    )
}

const CSV_LOOKUP: &str = r#"
[lookups.expedientes]
file = "datos/expedientes.csv"
key = "Identificación"
value = "wolkvox_id"
normalize = "digits"
"#;

/// The rows' `(status, wolkvox_id, error)` by row number.
fn outcome(out: &DryRun) -> BTreeMap<u64, (String, String, String)> {
    out.results
        .iter()
        .map(|r| {
            (
                r["row"].parse().unwrap(),
                (
                    r["status"].clone(),
                    r["wolkvox_id"].clone(),
                    r["error"].clone(),
                ),
            )
        })
        .collect()
}

fn assert_joined(out: &DryRun) {
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    let o = outcome(out);
    assert_eq!(o[&2].0, "valid");
    assert_eq!(o[&3].0, "valid");
    assert_eq!(o[&5].0, "valid");
    assert_eq!(o[&4].0, "invalid");
    // The payloads carry the looked-up id, not the document.
    assert_eq!(out.body(2)["wolkvox_id"], "61fa3");
    assert_eq!(out.body(3)["wolkvox_id"], "7b2c1");
    assert_eq!(out.body(5)["wolkvox_id"], "7b2c1");
    assert_eq!(out.body(2)["fields"]["total_balance"], "1000");
    assert_eq!(out.payload_rows(), vec![2, 3, 5]);
    assert_eq!(o[&2].1, "61fa3");
    // The key column is the lookup's, so it is not sent in form.
    assert_eq!(fields_of(out.body(2)).1, Vec::<(String, String)>::new());
}

#[test]
fn a_csv_lookup_gives_each_row_its_record_and_reports_a_missing_key() {
    let wd = Workdir::new();
    wd.write("cartera.csv", PORTFOLIO);
    std::fs::create_dir(wd.path("datos")).unwrap();
    wd.write("datos/expedientes.csv", RECORDS);
    wd.write("m.toml", mapping(CSV_LOOKUP));
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    assert_joined(&out);
    let (_, wolkvox_id, error) = &outcome(&out)[&4];
    assert_eq!(wolkvox_id, "");
    assert_eq!(
        error,
        "column \"Cédula\": \"55.555.555\" is not in datos/expedientes.csv (column \"Identificación\"); \
         check the cell, or add its record to datos/expedientes.csv"
    );
    assert!(
        out.run.stderr.contains("lookup table read") && out.run.stderr.contains("keys=3"),
        "{:?}",
        out.run
    );
}

#[test]
fn without_digits_the_differently_written_documents_do_not_meet() {
    let wd = Workdir::new();
    wd.write("cartera.csv", PORTFOLIO);
    std::fs::create_dir(wd.path("datos")).unwrap();
    wd.write("datos/expedientes.csv", RECORDS);
    wd.write(
        "m.toml",
        mapping(&CSV_LOOKUP.replace("normalize = \"digits\"", "")),
    );
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    let o = outcome(&out);
    assert_eq!(o[&2].0, "invalid", "{o:?}");
    assert_eq!(o[&3].0, "invalid", "{o:?}");
    assert_eq!(o[&5].0, "valid", "{o:?}");
    assert_eq!(out.body(5)["wolkvox_id"], "7b2c1");
}

/// A records export as a workbook: a summary sheet first, the records on
/// "Registros" with a title row above the header, documents as number
/// cells (as Excel stores them) or as text with leading zeros.
fn write_records_xlsx(path: &Path) {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let resumen = wb.add_worksheet();
    resumen.set_name("Resumen").unwrap();
    resumen.write_string(0, 0, "Exportado del CRM").unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("Registros").unwrap();
    ws.write_string(0, 0, "Expedientes de cobranza").unwrap();
    for (c, h) in ["Identificación", "Nombre", "wolkvox_id"]
        .iter()
        .enumerate()
    {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    ws.write_number(2, 0, 1_020_345_678.0).unwrap();
    ws.write_string(2, 1, "Sofía Gómez").unwrap();
    ws.write_string(2, 2, "61fa3").unwrap();
    ws.write_string(3, 0, "0098765432").unwrap();
    ws.write_string(3, 1, "Lucía Núñez").unwrap();
    ws.write_string(3, 2, "7b2c1").unwrap();
    wb.save(path).unwrap();
}

#[test]
fn a_workbook_lookup_reads_its_sheet_and_header_row() {
    let wd = Workdir::new();
    wd.write("cartera.csv", PORTFOLIO);
    write_records_xlsx(&wd.path("expedientes.xlsx"));
    wd.write(
        "m.toml",
        mapping(
            r#"
[lookups.expedientes]
file = "expedientes.xlsx"
sheet = "Registros"
header_row = 2
key = "identificación"
value = "WOLKVOX_ID"
normalize = "digits"
"#,
        ),
    );
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    assert_joined(&out);
    assert!(
        outcome(&out)[&4]
            .2
            .contains("is not in expedientes.xlsx (column \"Identificación\")"),
        "{:?}",
        out.results
    );

    // The sheet is checked like the input's: a wrong name lists the sheets.
    let text = std::fs::read_to_string(wd.path("m.toml")).unwrap();
    wd.write("bad.toml", text.replace("\"Registros\"", "\"Registro\""));
    let out = dry_run(&wd, "cartera.csv", "bad.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(
        out.run
            .stderr
            .contains("there is no sheet \"Registro\"; the sheets are \"Resumen\", \"Registros\""),
        "{:?}",
        out.run
    );
    assert!(out.results.is_empty());
}

/// A run refused before any row is read: exit 2, the message, and no
/// results or payloads file (both are created before the first row).
/// A records export whose documents were typed into Excel as numbers: one
/// of 16 digits, which Excel holds rounded (4540410858241234 as
/// ...230), and an id typed as a number of 18 digits.
fn write_rounded_records_xlsx(path: &Path) {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Registros").unwrap();
    for (c, h) in ["Identificación", "wolkvox_id"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_number(1, 0, 1_020_345_678.0).unwrap();
    ws.write_string(1, 1, "61fa3").unwrap();
    ws.write_number(2, 0, 4_540_410_858_241_234.0).unwrap();
    ws.write_string(2, 1, "bigid").unwrap();
    ws.write_number(3, 0, 555.0).unwrap();
    ws.write_number(3, 1, 123_456_789_012_345_678.0).unwrap();
    ws.write_string(4, 0, "98765432").unwrap();
    ws.write_string(4, 1, "").unwrap();
    wb.save(path).unwrap();
}

/// A key the lookup file's spreadsheet rounded never matches: the input's
/// true document is "not in" the file with a hint, the rounded spelling is
/// refused naming the lookup file's row and column, and each of the
/// lookup's problems groups apart in the summary.
#[test]
fn keys_a_spreadsheet_rounded_never_match_and_each_problem_groups_apart() {
    let wd = Workdir::new();
    wd.write(
        "cartera.csv",
        "Cédula;Nro Obligación;Saldo Total\r\n\
         1.020.345.678;OB-1;1,00\r\n\
         4540410858241234;OB-2;1,00\r\n\
         4540410858241230;OB-3;1,00\r\n\
         555;OB-4;1,00\r\n\
         N/A;OB-5;1,00\r\n\
         98765432;OB-6;1,00\r\n\
         4,54041E+15;OB-7;1,00\r\n",
    );
    write_rounded_records_xlsx(&wd.path("exp.xlsx"));
    wd.write(
        "m.toml",
        mapping(
            r#"
[lookups.expedientes]
file = "exp.xlsx"
key = "Identificación"
value = "wolkvox_id"
normalize = "digits"
"#,
        ),
    );
    let out = dry_run(&wd, "cartera.csv", "m.toml", &["--report", "r.html"]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    let o = outcome(&out);
    assert_eq!(o[&2].0, "valid");
    assert_eq!(out.body(2)["wolkvox_id"], "61fa3");
    assert_eq!(out.payload_rows(), [2], "only the true match is sent");
    // The report has a group of each kind.
    let page = wd.read("r.html");
    for kind in [
        "not-in-lookup",
        "lookup-key-rounded",
        "lookup-value",
        "lookup-no-key",
        "lookup-value-empty",
        "scientific",
    ] {
        assert_eq!(
            page.matches(&format!("data-kind=\"{kind}\"")).count(),
            1,
            "{kind}"
        );
    }

    // The document as the bank wrote it: not found, and told why.
    let missing = &o[&3].2;
    assert!(
        missing.contains("\"4540410858241234\" is not in exp.xlsx"),
        "{missing}"
    );
    assert!(
        missing.contains("exp.xlsx has 1 key that its spreadsheet rounded")
            && missing.contains("(row 3, column \"Identificación\")")
            && missing.contains("format that column as text"),
        "{missing}"
    );
    // The rounded spelling would have matched: refused, naming where.
    let rounded = &o[&4].2;
    assert_eq!(o[&4].0, "invalid");
    assert!(
        rounded.contains("\"4540410858241230\" is in exp.xlsx (row 3, column \"Identificación\") only as a number of more than 15 digits")
            && rounded.contains("format that column of exp.xlsx as text and export it again"),
        "{rounded}"
    );
    // A rounded value: the message reads as a sentence.
    assert!(
        o[&5].2.contains(
            "the value for \"555\" in exp.xlsx (row 4, column \"wolkvox_id\"): the number 123456789012346000 has more than 15 digits"
        ),
        "{:?}",
        o[&5]
    );
    assert!(
        o[&6].2.contains("\"N/A\" has no digits to look up"),
        "{:?}",
        o[&6]
    );
    assert!(
        o[&7].2.contains("but its \"wolkvox_id\" is empty"),
        "{:?}",
        o[&7]
    );
    assert!(
        o[&8]
            .2
            .contains("\"4,54041E+15\" is a number in scientific notation"),
        "{:?}",
        o[&8]
    );

    // Six problems of one column, six groups of one row each (the summary
    // lists five, and counts the sixth).
    let err = &out.run.stderr;
    for row in 3..=7 {
        assert!(
            err.contains(&format!("1 row, e.g. row {row}: ")),
            "row {row} is not a group of its own:\n{err}"
        );
    }
    assert!(err.contains("and 1 more kind of problem"), "{err}");
    assert!(!err.contains("2 rows, e.g."), "{err}");

    // The same in Spanish.
    let es = wd.run(&[
        "--lang",
        "es",
        "import",
        "cartera.csv",
        "--mapping",
        "m.toml",
        "--dry-run",
        "-o",
        "es.csv",
    ]);
    assert_eq!(es.code, 1, "{es:?}");
    let rows = common::read_results(&wd.path("es.csv"));
    let error = |row: &str| rows.iter().find(|r| r["row"] == row).unwrap()["error"].clone();
    assert!(
        error("3").contains("exp.xlsx tiene 1 clave que su hoja de cálculo redondeó"),
        "{}",
        error("3")
    );
    assert!(
        error("4").contains(
            "\"4540410858241230\" está en exp.xlsx (fila 3, columna \"Identificación\") solo como un número de más de 15 cifras"
        ),
        "{}",
        error("4")
    );
    assert!(
        error("8").contains("es un número en notación científica"),
        "{}",
        error("8")
    );
}

fn assert_refused(out: &DryRun, wd: &Workdir, wanted: &[&str]) {
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    for w in wanted {
        assert!(out.run.stderr.contains(w), "missing {w:?} in {:?}", out.run);
    }
    assert!(!wd.path("cartera.results.csv").exists(), "{:?}", out.run);
    assert!(!wd.path("cartera.payloads.jsonl").exists(), "{:?}", out.run);
}

#[test]
fn a_lookup_file_that_does_not_exist_stops_the_run_before_any_row() {
    let wd = Workdir::new();
    wd.write("cartera.csv", PORTFOLIO);
    wd.write("m.toml", mapping(CSV_LOOKUP));
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    assert_refused(
        &out,
        &wd,
        &[
            "m.toml: [lookups.expedientes]",
            "datos/expedientes.csv: no such file",
        ],
    );
}

#[test]
fn a_lookup_file_without_its_key_column_stops_the_run_with_a_suggestion() {
    let wd = Workdir::new();
    wd.write("cartera.csv", PORTFOLIO);
    std::fs::create_dir(wd.path("datos")).unwrap();
    wd.write("datos/expedientes.csv", RECORDS);
    wd.write(
        "m.toml",
        mapping(&CSV_LOOKUP.replace("\"Identificación\"", "\"Identificacion Cliente\"")),
    );
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    assert_refused(
        &out,
        &wd,
        &[
            "[lookups.expedientes] key:",
            "datos/expedientes.csv (header row 1): column \"Identificacion Cliente\" not found; did you mean \"Identificación\"?",
        ],
    );

    // The value column too, both reported at once.
    wd.write(
        "m.toml",
        mapping(
            &CSV_LOOKUP
                .replace("\"Identificación\"", "\"Documento\"")
                .replace("\"wolkvox_id\"", "\"Id Wolkvox\""),
        ),
    );
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    assert_refused(
        &out,
        &wd,
        &["[lookups.expedientes] key:", "[lookups.expedientes] value:"],
    );
}

#[test]
fn a_key_with_two_values_is_refused_unless_the_first_is_asked_for() {
    let wd = Workdir::new();
    wd.write("cartera.csv", PORTFOLIO);
    std::fs::create_dir(wd.path("datos")).unwrap();
    // The same document written twice, for two records; and one repeated
    // with the same record, which is harmless.
    wd.write(
        "datos/expedientes.csv",
        format!("{RECORDS}61fa3,Sofía Gómez,1020345678\r\ncc001,Sofía G.,1.020.345.678\r\n"),
    );
    wd.write("m.toml", mapping(CSV_LOOKUP));
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    assert_refused(
        &out,
        &wd,
        &[
            "[lookups.expedientes] datos/expedientes.csv, rows 2 and 6:",
            "the key \"1020345678\" (\"1.020.345.678\" in row 6)",
            "has two values in column \"wolkvox_id\": \"61fa3\" and \"cc001\"",
            "duplicates = \"first\"",
        ],
    );

    wd.write(
        "m.toml",
        mapping(&format!("{CSV_LOOKUP}duplicates = \"first\"\n")),
    );
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    assert_joined(&out);
}

#[test]
fn a_windows_1252_lookup_file_is_detected() {
    let wd = Workdir::new();
    wd.write("cartera.csv", PORTFOLIO);
    std::fs::create_dir(wd.path("datos")).unwrap();
    let legacy = RECORDS.trim_start_matches('\u{feff}').replace(',', ";");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&legacy);
    wd.write("datos/expedientes.csv", bytes);
    wd.write("m.toml", mapping(CSV_LOOKUP));
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    assert_joined(&out);
}

#[test]
fn a_lookup_files_reading_problem_names_its_own_section() {
    // A UTF-8 records export read with a forced single-byte encoding would
    // garble every accent: refused, telling the user to change the lookup's
    // section, not the input's [source].
    let wd = Workdir::new();
    wd.write("cartera.csv", PORTFOLIO);
    std::fs::create_dir(wd.path("datos")).unwrap();
    wd.write(
        "datos/expedientes.csv",
        RECORDS.trim_start_matches('\u{feff}'),
    );
    let lookup = format!("{CSV_LOOKUP}encoding = \"windows-1252\"\n");
    wd.write("m.toml", mapping(&lookup));
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    assert_refused(
        &out,
        &wd,
        &[
            "encoding = \"windows-1252\"",
            "remove `encoding` from [lookups.expedientes]",
        ],
    );
    assert!(!out.run.stderr.contains("[source]"), "{:?}", out.run);
}

#[test]
#[cfg(feature = "fake-crm")]
fn a_real_run_sends_the_looked_up_ids_and_a_bad_lookup_sends_nothing() {
    use common::FakeServer;
    use wolkvox_import::fake_crm::FakeCrmOptions;
    let wd = Workdir::new();
    wd.write("cartera.csv", PORTFOLIO);
    std::fs::create_dir(wd.path("datos")).unwrap();
    wd.write("datos/expedientes.csv", RECORDS);
    wd.write("m.toml", mapping(CSV_LOOKUP));
    let fake = FakeServer::start(FakeCrmOptions::default());
    let base = fake.base_url();
    let import = |mapping: &str, output: &str| {
        let mut cmd = wd.command(&[
            "import",
            "cartera.csv",
            "--mapping",
            mapping,
            "--server",
            &base,
            "--output",
            output,
        ]);
        cmd.env("WOLKVOX_TOKEN", "fake-token")
            .env("WOLKVOX_LEDGER", wd.path("ledger.sqlite"));
        common::Run::from(cmd.output().expect("run binary"))
    };
    let run = import("m.toml", "sent.results.csv");
    assert_eq!(run.code, 1, "{run:?}");
    let mut sent: Vec<(String, String)> = fake
        .ledger()
        .iter()
        .map(|e| {
            (
                e["obligation"].as_str().unwrap().to_string(),
                e["wolkvox_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    sent.sort();
    let want = [("OB-1", "61fa3"), ("OB-2", "7b2c1"), ("OB-4", "7b2c1")];
    assert_eq!(
        sent,
        want.map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
    );

    // A lookup file that is not there: not one request, not even the
    // token's quota check.
    let before = fake.stats().requests;
    wd.write("bad.toml", mapping(&CSV_LOOKUP.replace("datos/", "otros/")));
    let run = import("bad.toml", "bad.results.csv");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("otros/expedientes.csv: no such file"),
        "{run:?}"
    );
    assert_eq!(fake.stats().requests, before);
    assert!(!wd.path("bad.results.csv").exists());
}

// ---------------------------------------------------------------- the bundled samples

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Copies the samples and mappings into the test's folder, keeping their
/// layout, so every output stays there.
fn with_samples() -> Workdir {
    let wd = Workdir::new();
    for dir in ["samples", "mappings"] {
        std::fs::create_dir(wd.path(dir)).unwrap();
        for entry in std::fs::read_dir(repo(dir)).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".csv") || name.ends_with(".xlsx") || name.ends_with(".toml") {
                if name.contains(".results.") {
                    continue;
                }
                std::fs::copy(&p, wd.path(&format!("{dir}/{name}"))).unwrap();
            }
        }
    }
    wd
}

/// `samples/expedientes.csv` read independently of the importer: document
/// digits (leading zeros dropped) → wolkvox_id.
fn sample_records() -> BTreeMap<String, String> {
    let mut rdr = csv::Reader::from_path(repo("samples/expedientes.csv")).unwrap();
    let header: Vec<String> = rdr
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let id = header.iter().position(|h| h == "wolkvox_id").unwrap();
    let doc = header.iter().position(|h| h == "Identificación").unwrap();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let digits: String = r[doc].chars().filter(char::is_ascii_digit).collect();
            (
                digits.trim_start_matches('0').to_string(),
                r[id].to_string(),
            )
        })
        .collect()
}

/// The input's `Nro Documento` of each data row, as digits.
fn documents(out: &DryRun) -> BTreeMap<u64, String> {
    out.payloads
        .iter()
        .map(|p| {
            let form = fields_of(&p["body"]).1;
            let doc = form
                .iter()
                .find(|(n, _)| n == "Nro Documento")
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no Nro Documento in form: {p}"));
            let digits: String = doc.chars().filter(char::is_ascii_digit).collect();
            (
                p["row"].as_u64().unwrap(),
                digits.trim_start_matches('0').to_string(),
            )
        })
        .collect()
}

#[test]
fn the_sample_mapping_joins_the_sample_portfolio_to_its_records() {
    let wd = with_samples();
    let records = sample_records();
    let mapping = "mappings/cartera-con-expedientes.toml";
    for input in ["samples/cartera.csv", "samples/cartera.xlsx"] {
        let joined = dry_run(&wd, input, mapping, &[]);
        let plain = dry_run(&wd, input, "mappings/cartera.toml", &[]);
        assert_eq!(joined.run.code, 1, "{input}: {:?}", joined.run);

        // Only the sample's deliberately bad rows are invalid, for the
        // reasons docs/samples.md gives (the duplicate names another id).
        let invalid: Vec<u64> = joined
            .statuses()
            .into_iter()
            .filter(|(_, s)| s != "valid")
            .map(|(r, _)| r)
            .collect();
        assert_eq!(invalid, vec![9, 16, 24, 30, 36, 43], "{input}");
        assert_eq!(joined.statuses(), plain.statuses(), "{input}");
        for row in [9, 16, 24, 30, 36] {
            assert_eq!(joined.error(row), plain.error(row), "{input} row {row}");
        }
        assert!(
            joined
                .error(43)
                .starts_with("duplicate of row 12 (same wolkvox_id"),
            "{input}: {}",
            joined.error(43)
        );

        // Every row sent carries its client's record from the export, and
        // otherwise the same fields and form as without the lookup.
        let docs = documents(&joined);
        assert_eq!(docs.len(), 40, "{input}");
        for (row, doc) in &docs {
            let body = joined.body(*row);
            assert_eq!(
                body["wolkvox_id"].as_str(),
                Some(records[doc].as_str()),
                "{input} row {row}, document {doc}"
            );
            let (fields, mut form) = fields_of(body);
            let (plain_fields, mut plain_form) = fields_of(plain.body(*row));
            assert_eq!(fields, plain_fields, "{input} row {row}");
            form.sort();
            plain_form.sort();
            assert_eq!(form, plain_form, "{input} row {row}");
        }
    }
}

#[test]
fn mapping_init_with_a_lookup_proposes_the_join_on_the_samples() {
    let wd = with_samples();
    for input in ["samples/cartera.csv", "samples/cartera.xlsx"] {
        let init = wd.run(&[
            "mapping",
            "init",
            input,
            "--lookup",
            "samples/expedientes.csv",
            "--operation",
            "cobranza",
        ]);
        assert_eq!(init.code, 0, "{init:?}");
        let value: toml::Value = toml::from_str(&init.stdout).expect("the starter is TOML");
        let l = &value["lookups"]["expedientes"];
        assert_eq!(
            l["file"].as_str(),
            Some("samples/expedientes.csv"),
            "{}",
            init.stdout
        );
        assert_eq!(l["key"].as_str(), Some("Identificación"), "{}", init.stdout);
        assert_eq!(l["value"].as_str(), Some("wolkvox_id"), "{}", init.stdout);
        assert_eq!(l["normalize"].as_str(), Some("digits"), "{}", init.stdout);
        let w = &value["fields"]["wolkvox_id"];
        assert_eq!(
            w["column"].as_str(),
            Some("Nro Documento"),
            "{}",
            init.stdout
        );
        assert_eq!(w["lookup"].as_str(), Some("expedientes"), "{}", init.stdout);
        assert!(
            init.stdout
                .contains("36 of the 36 values of \"Nro Documento\""),
            "{}",
            init.stdout
        );

        // Saved beside the samples' folder, the proposal runs as it is, and
        // no row misses its record.
        wd.write("starter.toml", &init.stdout);
        let out = dry_run(&wd, input, "starter.toml", &[]);
        assert!(out.run.code <= 1, "{input}: {:?}", out.run);
        assert!(out.payloads.len() >= 40, "{input}: {:?}", out.run);
        assert!(
            out.results
                .iter()
                .all(|r| !r["error"].contains("is not in")),
            "{input}: {:?}",
            out.results
        );
        assert_eq!(
            out.body(2)["wolkvox_id"].as_str(),
            sample_records().get("61249230").map(String::as_str)
        );
    }
}

#[test]
fn mapping_init_with_a_lookup_that_shares_nothing_says_so() {
    let wd = Workdir::new();
    wd.write("cartera.csv", PORTFOLIO);
    wd.write("otros.csv", "Código,Descripción\nA1,uno\nB2,dos\n");
    let init = wd.run(&["mapping", "init", "cartera.csv", "--lookup", "otros.csv"]);
    assert_eq!(init.code, 0, "{init:?}");
    assert!(
        init.stderr.contains("no column of cartera.csv matched"),
        "{init:?}"
    );
    let value: toml::Value = toml::from_str(&init.stdout).expect("TOML");
    assert!(value.get("lookups").is_none(), "{}", init.stdout);
}

#[test]
fn mapping_init_without_a_record_id_explains_wolkvox_id() {
    let wd = Workdir::new();
    wd.write("cartera.csv", PORTFOLIO);
    let init = wd.run(&["mapping", "init", "cartera.csv"]);
    assert_eq!(init.code, 0, "{init:?}");
    let value: toml::Value = toml::from_str(&init.stdout).expect("TOML");
    assert!(
        value["fields"].get("wolkvox_id").is_none(),
        "{}",
        init.stdout
    );
    for wanted in [
        "# wolkvox_id is required: the CRM's id of the collections record (expediente)",
        "exist in the CRM before its obligations are sent",
        "--lookup",
        "docs/mapping.md",
    ] {
        assert!(
            init.stdout.contains(wanted),
            "missing {wanted:?} in\n{}",
            init.stdout
        );
    }
    assert!(
        init.stderr
            .starts_with("note: no column looks like a record id (wolkvox_id)")
            && init.stderr.contains("docs/mapping.md"),
        "{init:?}"
    );

    // A file that has the id says nothing about it.
    wd.write("con_id.csv", "ID Registro;Nro Obligación\nR1;O1\n");
    let init = wd.run(&["mapping", "init", "con_id.csv"]);
    assert_eq!(init.code, 0, "{init:?}");
    assert!(!init.stderr.contains("note:"), "{init:?}");
    assert!(!init.stdout.contains("wolkvox_id is required"), "{init:?}");
}

#[test]
fn mapping_init_says_how_many_values_matched_when_too_few_to_pair_the_columns() {
    let wd = Workdir::new();
    // Two of the three documents are in the export: at least half, but
    // fewer than the 3 values a pair by values needs.
    wd.write(
        "cartera.csv",
        "Nro Documento,Nro Obligación,Saldo Total\n1.020.345.678,O1,100\n98765432,O2,200\n55544433,O3,300\n",
    );
    wd.write(
        "expedientes.csv",
        "Identificación,wolkvox_id\n1020345678,rec1\n0098765432,rec2\n",
    );
    let init = wd.run(&[
        "mapping",
        "init",
        "cartera.csv",
        "--lookup",
        "expedientes.csv",
    ]);
    assert_eq!(init.code, 0, "{init:?}");
    assert!(
        init.stdout.contains(
            "# but only 2 of the 3 values looked at are in both (compared as digits): too few to pair them by their values (at least half of them, and at least 3, are needed)."
        ),
        "{}",
        init.stdout
    );
    assert!(
        !init.stdout.contains("no value was found"),
        "{}",
        init.stdout
    );
    // Paired by their names, as the comment says.
    let value: toml::Value = toml::from_str(&init.stdout).expect("TOML");
    let l = &value["lookups"]["expedientes"];
    assert_eq!(l["key"].as_str(), Some("Identificación"));
    assert_eq!(l["normalize"].as_str(), Some("digits"));

    // Columns not named like documents: no join, and the note says what
    // the nearest pair shared.
    wd.write(
        "otra.csv",
        "Clave,Nro Obligación\n1.020.345.678,O1\n98765432,O2\n55544433,O3\n",
    );
    wd.write(
        "registros.csv",
        "Llave,wolkvox_id\n1020345678,rec1\n0098765432,rec2\n",
    );
    let init = wd.run(&["mapping", "init", "otra.csv", "--lookup", "registros.csv"]);
    assert_eq!(init.code, 0, "{init:?}");
    assert!(
        init.stderr
            .contains("the most, 2 of the 3 values of \"Clave\" looked at, are in \"Llave\""),
        "{init:?}"
    );
    let value: toml::Value = toml::from_str(&init.stdout).expect("TOML");
    assert!(value.get("lookups").is_none(), "{}", init.stdout);

    // Three of four found: half and 3, a pair by values.
    wd.write(
        "cuatro.csv",
        "Clave,Nro Obligación\n1.020.345.678,O1\n98765432,O2\n55544433,O3\n77788899,O4\n",
    );
    wd.write(
        "tres.csv",
        "Llave,wolkvox_id\n1020345678,rec1\n0098765432,rec2\n55544433,rec3\n",
    );
    let init = wd.run(&["mapping", "init", "cuatro.csv", "--lookup", "tres.csv"]);
    assert_eq!(init.code, 0, "{init:?}");
    assert!(
        init.stdout
            .contains("# 3 of the 4 values of \"Clave\" looked at are in its column \"Llave\""),
        "{}",
        init.stdout
    );
}

#[test]
fn a_csv_lookup_holding_spreadsheet_error_values_is_refused_as_a_workbook_is() {
    let wd = Workdir::new();
    wd.write("cartera.csv", PORTFOLIO);
    std::fs::create_dir(wd.path("datos")).unwrap();
    wd.write("m.toml", mapping(CSV_LOOKUP));
    // A VLOOKUP left behind in the value column, saved as CSV: the text
    // "#N/A" would be sent as the record's id.
    for error in [
        "#N/A", "#REF!", "#VALUE!", "#NAME?", "#DIV/0!", "#NUM!", "#NULL!",
    ] {
        wd.write(
            "datos/expedientes.csv",
            format!("wolkvox_id,Identificación\r\n61fa3,1020345678\r\n{error},98765432\r\n"),
        );
        let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
        let wanted = format!(
            "[lookups.expedientes] datos/expedientes.csv, row 3, column \"wolkvox_id\": holds the error value {error}"
        );
        assert_refused(&out, &wd, &[wanted.as_str()]);
    }
    // In the key column too.
    wd.write(
        "datos/expedientes.csv",
        "wolkvox_id,Identificación\r\n61fa3,#N/A\r\n",
    );
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    assert_refused(
        &out,
        &wd,
        &["datos/expedientes.csv, row 2, column \"Identificación\": holds the error value #N/A"],
    );
}

#[test]
fn a_lookup_file_with_no_rows_or_no_keys_stops_the_run_before_any_row() {
    let wd = Workdir::new();
    wd.write("cartera.csv", PORTFOLIO);
    std::fs::create_dir(wd.path("datos")).unwrap();
    wd.write("m.toml", mapping(CSV_LOOKUP));
    // A header and nothing under it: every row would be "not in the file".
    wd.write("datos/expedientes.csv", "wolkvox_id,Identificación\r\n");
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    assert_refused(
        &out,
        &wd,
        &["m.toml: [lookups.expedientes] datos/expedientes.csv has a header and no rows"],
    );
    // Rows, but not one key.
    wd.write(
        "datos/expedientes.csv",
        "wolkvox_id,Identificación\r\n61fa3,\r\n7b2c1, \r\n",
    );
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    assert_refused(
        &out,
        &wd,
        &["[lookups.expedientes] datos/expedientes.csv: none of its 2 rows have a key in column \"Identificación\""],
    );
    // As an empty file is.
    wd.write("datos/expedientes.csv", "");
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    assert_refused(&out, &wd, &["datos/expedientes.csv: the file is empty"]);
}

/// Three lookups of one export, by the same document: its record, its
/// balance and its due date.
const THREE_LOOKUPS: &str = r#"
[request]
operation = "cobranza"

[lookups.expedientes]
file = "exp.csv"
key = "Identificación"
value = "wolkvox_id"
normalize = "digits"

[lookups.saldos]
file = "exp.csv"
key = "Identificación"
value = "Saldo"
normalize = "digits"

[lookups.vencimientos]
file = "exp.csv"
key = "Identificación"
value = "Vence"
normalize = "digits"

[fields]
wolkvox_id = { column = "Cédula", lookup = "expedientes" }
id = "Nro Obligación"
total_balance = { column = "Cédula", lookup = "saldos", type = "number" }

[form.entries]
"Vence" = { column = "Cédula", lookup = "vencimientos" }
"#;

#[test]
fn a_key_several_fields_miss_in_the_same_file_is_said_once() {
    let wd = Workdir::new();
    wd.write(
        "cartera.csv",
        "Cédula;Nro Obligación\r\n1.020.345.678;OB-1\r\n55.555.555;OB-2\r\n",
    );
    wd.write(
        "exp.csv",
        "Identificación,wolkvox_id,Saldo,Vence\r\n1020345678,61fa3,1000,2025-03-15\r\n",
    );
    wd.write("m.toml", THREE_LOOKUPS);
    let out = dry_run(&wd, "cartera.csv", "m.toml", &["--report", "r.html"]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    let o = outcome(&out);
    assert_eq!(o[&2].0, "valid", "{o:?}");
    let (status, _, error) = &o[&3];
    assert_eq!(status, "invalid");
    assert_eq!(
        error,
        "column \"Cédula\": \"55.555.555\" is not in exp.csv (column \"Identificación\"); \
         check the cell, or add its record to exp.csv"
    );
    // One row, one problem: the report counts it once.
    let page = wd.read("r.html");
    assert_eq!(page.matches("data-kind=\"not-in-lookup\"").count(), 1);
}

#[test]
fn the_report_names_the_lookup_file_a_key_is_not_in() {
    let wd = Workdir::new();
    // The record and the balance by the same document, from two files:
    // each row misses one, or both. Same column, two places to fix.
    wd.write(
        "cartera.csv",
        "Cédula;Nro Obligación\r\n\
         1020345678;OB-1\r\n\
         55555555;OB-2\r\n\
         66666666;OB-3\r\n\
         44444444;OB-4\r\n",
    );
    wd.write(
        "exp.csv",
        "Identificación,wolkvox_id\r\n1020345678,61fa3\r\n66666666,7b2c1\r\n",
    );
    wd.write(
        "saldos.csv",
        "Documento,Saldo\r\n1020345678,1000\r\n55555555,2000\r\n",
    );
    wd.write(
        "m.toml",
        r#"
[request]
operation = "cobranza"

[lookups.expedientes]
file = "exp.csv"
key = "Identificación"
value = "wolkvox_id"

[lookups.saldos]
file = "saldos.csv"
key = "Documento"
value = "Saldo"

[fields]
wolkvox_id = { column = "Cédula", lookup = "expedientes" }
id = "Nro Obligación"
total_balance = { column = "Cédula", lookup = "saldos", type = "number" }
"#,
    );
    let out = dry_run(&wd, "cartera.csv", "m.toml", &["--report", "r.html"]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    let page = wd.read("r.html");
    let headings: Vec<&str> = page
        .split("<article class=\"problem\" data-kind=\"not-in-lookup\"")
        .skip(1)
        .map(|a| &a[a.find("<h3>").unwrap()..a.find("</h3>").unwrap()])
        .collect();
    assert_eq!(headings.len(), 2, "{headings:?}");
    let of = |file: &str| {
        headings
            .iter()
            .find(|h| h.contains(&format!("not in the lookup file {file}")))
            .unwrap_or_else(|| panic!("no group names {file}: {headings:?}"))
            .to_string()
    };
    assert!(of("exp.csv").contains("Cédula"), "{}", of("exp.csv"));
    assert!(of("exp.csv").contains("2 rows"), "{}", of("exp.csv"));
    assert!(of("saldos.csv").contains("Cédula"));
    assert!(of("saldos.csv").contains("2 rows"), "{}", of("saldos.csv"));
    assert!(page.contains(
        "The key is not in saldos.csv: check the cell, or add its record to saldos.csv."
    ));
}
