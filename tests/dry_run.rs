//! The dry run end to end through the real binary: mapping errors refused
//! before any row is read, every bad cell located and explained, the results,
//! payloads and rejects files as the contract describes them, the exit codes,
//! and the `inspect` and `mapping init` helpers that lead to a first mapping.

mod common;
mod dry_run_support;

use common::Workdir;
use dry_run_support::{dry_run, fields_of, form_of, map, pairs, read_csv_table};
use serde_json::json;

fn statuses(v: &[(u64, &str)]) -> Vec<(u64, String)> {
    v.iter().map(|(r, s)| (*r, s.to_string())).collect()
}

/// The product brief's example mapping, for a `;`-delimited UTF-8 file.
const CARTERA_MAPPING: &str = r#"
[source]
decimal_separator = ","
date_formats = ["%d/%m/%Y"]

[request]
operation = "cobranza"

[fields]
wolkvox_id = "ID Registro"
id = "Nro Obligación"
name = "Producto"
total_balance = { column = "Saldo Total", type = "number" }
portfolio_type = { value = "Consumo" }
last_pay = { column = "Valor Último Pago", type = "number", default = "0" }
last_pay_date = { column = "Fecha Último Pago", type = "date", required = false }
expiring_date = { column = "Fecha Vencimiento", type = "date", formats = ["%Y-%m-%d"] }
days_delay = { column = "Días Mora", type = "integer" }

[form]
exclude = ["Observaciones internas"]
rename = { "Tel Celular" = "Celular" }
"#;

const CARTERA_HEADER: &str = "ID Registro;Nro Obligación;Producto;Saldo Total;Valor Último Pago;\
Fecha Último Pago;Fecha Vencimiento;Días Mora;Ciudad;Observaciones internas;Tel Celular";

fn cartera(rows: &[&str]) -> String {
    let mut s = String::from(CARTERA_HEADER);
    s.push_str("\r\n");
    for r in rows {
        s.push_str(r);
        s.push_str("\r\n");
    }
    s
}

// ---------------------------------------------------------------- mapping errors

#[test]
fn a_missing_column_is_refused_with_the_nearest_header() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        "ID Registro;Nro Obligacion;Saldo  Total ;Dias Mora\nR1;OB1;10;5\n",
    );
    wd.write(
        "m.toml",
        r#"
[request]
operation = "cobranza"
[fields]
wolkvox_id = "id registro"
id = "Nro Obligacion"
total_balance = { column = "Saldo Total", type = "number" }
days_delay = { column = "Días Mora", type = "integer" }
name = "Nombre del titular completo"
"#,
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    let err = &out.run.stderr;
    assert!(err.contains("in.csv"), "{err}");
    assert!(err.contains("header (row 1)"), "{err}");
    // Every missing column at once, each with the closest header.
    assert!(
        err.contains(
            "[fields] total_balance: column \"Saldo Total\" not found; did you mean \"Saldo  Total \"?"
        ),
        "{err}"
    );
    // An accent is a difference: suggested, never silently taken.
    assert!(
        err.contains(
            "[fields] days_delay: column \"Días Mora\" not found; did you mean \"Dias Mora\"?"
        ),
        "{err}"
    );
    // Nothing close: the columns are listed instead.
    assert!(
        err.contains(
            "column \"Nombre del titular completo\" not found; the columns are \"ID Registro\""
        ),
        "{err}"
    );
    // Case and surrounding spaces do not matter.
    assert!(!err.contains("[fields] wolkvox_id"), "{err}");
    assert!(!err.contains("[fields] id:"), "{err}");
    // Refused before any row is read: no outputs.
    assert!(out.results.is_empty() && out.payloads.is_empty());
    assert!(!wd.path("in.results.csv").exists());
}

#[test]
fn unknown_keys_name_the_line_and_the_nearest_key() {
    let wd = Workdir::new();
    wd.write("in.csv", "a,b\n1,2\n");
    for (text, line, hint) in [
        (
            "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = { colum = \"b\" }\n",
            "line 5",
            "did you mean `column` instead of `colum`?",
        ),
        (
            "[source]\nheadr_row = 2\n[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n",
            "line 2",
            "did you mean `header_row` instead of `headr_row`?",
        ),
        (
            "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\ntotal_balnce = \"c\"\n",
            "line 6",
            "did you mean `total_balance` instead of `total_balnce`?",
        ),
    ] {
        wd.write("m.toml", text);
        let out = dry_run(&wd, "in.csv", "m.toml", &[]);
        assert_eq!(out.run.code, 2, "{:?}", out.run);
        assert!(out.run.stderr.contains("m.toml"), "{:?}", out.run);
        assert!(out.run.stderr.contains(line), "{:?}", out.run);
        assert!(out.run.stderr.contains(hint), "{:?}", out.run);
        assert!(out.results.is_empty());
    }
}

#[test]
fn duplicate_headers_name_both_positions() {
    let wd = Workdir::new();
    wd.write("in.csv", "a;b;Saldo;Ciudad;saldo \nR1;OB1;1;Cali;2\n");
    wd.write(
        "m.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n",
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    let err = &out.run.stderr;
    assert!(err.contains("in.csv"), "{err}");
    assert!(err.contains("two columns have the same name"), "{err}");
    assert!(
        err.contains("\"Saldo\" (column 3) and \"saldo \" (column 5)"),
        "{err}"
    );
    assert!(err.contains("header row 1"), "{err}");
}

#[test]
fn a_missing_operation_or_required_field_is_refused() {
    let wd = Workdir::new();
    wd.write("in.csv", "a,b\nR1,OB1\n");
    wd.write("m.toml", "[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n");
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(out.run.stderr.contains("m.toml"), "{:?}", out.run);
    assert!(out.run.stderr.contains("no operation"), "{:?}", out.run);
    assert!(out.run.stderr.contains("--operation"), "{:?}", out.run);

    let out = dry_run(&wd, "in.csv", "m.toml", &["--operation", "cobranza"]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.body(2)["operation"], "cobranza");

    wd.write(
        "noid.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\n",
    );
    let out = dry_run(&wd, "in.csv", "noid.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(
        out.run.stderr.contains("[fields] id is required"),
        "{:?}",
        out.run
    );

    let out = dry_run(&wd, "in.csv", "absent.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(out.run.stderr.contains("absent.toml"), "{:?}", out.run);
}

// ---------------------------------------------------------------- validation

#[test]
fn every_bad_cell_is_named_with_its_column_and_value() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        cartera(&[
            // All good.
            "R1;OB1;Tarjeta;$ 1.234.567,89;;;2024-01-31;90;Cali;x;300",
            // Three bad cells in one row: all reported, in API field order.
            "R1;OB2;Tarjeta;mil pesos;;31/02/2024;2024-01-31;12,5;;;",
            // An impossible date in the field's own format, a bad integer.
            "R1;OB3;Tarjeta;10;;;2023-02-29;noventa;;;",
            // Empty required cells; the identity is still reported.
            "R1;;Tarjeta;;;;2024-01-31;1;;;",
            // A number under the wrong decimal separator.
            "R1;OB5;Tarjeta;1.5;;;2024-01-31;1;;;",
        ]),
    );
    wd.write("m.toml", CARTERA_MAPPING);
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    assert_eq!(
        out.statuses(),
        statuses(&[
            (2, "valid"),
            (3, "invalid"),
            (4, "invalid"),
            (5, "invalid"),
            (6, "invalid")
        ])
    );
    assert_eq!(
        out.error(3),
        "column \"Saldo Total\": \"mil pesos\" is not a number (decimal separator \",\"); \
         column \"Fecha Último Pago\": \"31/02/2024\" is not a real date; \
         column \"Días Mora\": \"12,5\" is not a whole number"
    );
    assert_eq!(
        out.error(4),
        "column \"Fecha Vencimiento\": \"2023-02-29\" is not a real date; \
         column \"Días Mora\": \"noventa\" is not a number (decimal separator \",\")"
    );
    assert_eq!(
        out.error(5),
        "column \"Nro Obligación\" is empty; column \"Saldo Total\" is empty"
    );
    assert_eq!(out.result(5)["wolkvox_id"], "R1");
    assert_eq!(out.result(5)["obligation_id"], "");
    assert!(
        out.error(6)
            .starts_with("column \"Saldo Total\": \"1.5\" is not a number"),
        "{}",
        out.error(6)
    );
    assert!(
        out.error(6).contains("decimal_separator"),
        "{}",
        out.error(6)
    );
    assert_eq!(out.payload_rows(), vec![2]);
    // The summary on stderr points at an example row.
    assert!(out.run.stderr.contains("invalid 4"), "{:?}", out.run);
}

#[test]
fn the_body_has_all_eight_fields_as_strings_and_form_in_column_order() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        cartera(&[
            "R1;OB1;Tarjeta Oro;$ 1.234.567,89;;;2024-01-31;0090;Cali;no llamar;300 123 4567",
            "R1;OB2;Libranza;10000,00;50.000;15/01/2024;2024-06-30;7;;secreto;",
        ]),
    );
    wd.write("m.toml", CARTERA_MAPPING);
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(
        out.body(2),
        &json!({
            "operation": "cobranza",
            "wolkvox_id": "R1",
            "fields": {
                "id": "OB1",
                "name": "Tarjeta Oro",
                "total_balance": "1234567.89",
                "portfolio_type": "Consumo",
                "last_pay": "0",
                "last_pay_date": "",
                "expiring_date": "31-01-2024",
                "days_delay": "90",
                "form": [
                    {"name": "Ciudad", "value": "Cali"},
                    {"name": "Celular", "value": "300 123 4567"}
                ]
            }
        })
    );
    // Empty cells are left out of form; excluded columns never appear.
    let b = out.body(3);
    assert_eq!(form_of(b), pairs(&[]));
    let (plain, _) = fields_of(b);
    assert_eq!(
        plain,
        map(&[
            ("id", "OB2"),
            ("name", "Libranza"),
            ("total_balance", "10000"),
            ("portfolio_type", "Consumo"),
            ("last_pay", "50000"),
            ("last_pay_date", "15-01-2024"),
            ("expiring_date", "30-06-2024"),
            ("days_delay", "7"),
        ])
    );
    // The exact top-level shape of every body.
    for p in &out.payloads {
        let mut keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["body", "row"]);
        let body = p["body"].as_object().unwrap();
        let mut keys: Vec<&String> = body.keys().collect();
        keys.sort();
        assert_eq!(keys, ["fields", "operation", "wolkvox_id"]);
        assert!(body["operation"].is_string() && body["wolkvox_id"].is_string());
    }
    let all = std::fs::read_to_string(wd.path("in.payloads.jsonl")).unwrap();
    assert!(!all.contains("secreto") && !all.contains("Observaciones internas"));
    // As sent, the fields come in the API's documented order.
    for line in all.lines() {
        let at = |key: &str| {
            line.find(&format!("\"{key}\":"))
                .unwrap_or_else(|| panic!("{key} missing in {line}"))
        };
        let order = [
            "operation",
            "wolkvox_id",
            "fields",
            "id",
            "name",
            "total_balance",
            "portfolio_type",
            "last_pay",
            "last_pay_date",
            "expiring_date",
            "days_delay",
            "form",
        ];
        let positions: Vec<usize> = order.iter().map(|k| at(k)).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{line}");
    }
}

#[test]
fn fields_not_mapped_are_sent_empty_and_extra_columns_can_be_turned_off() {
    let wd = Workdir::new();
    wd.write("in.csv", "a,b,c,d\nR1,OB1,x,\nR1,OB2,,y\n");
    wd.write(
        "m.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n",
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    let (plain, form) = fields_of(out.body(2));
    assert_eq!(
        plain,
        map(&[
            ("id", "OB1"),
            ("name", ""),
            ("total_balance", ""),
            ("portfolio_type", ""),
            ("last_pay", ""),
            ("last_pay_date", ""),
            ("expiring_date", ""),
            ("days_delay", ""),
        ])
    );
    assert_eq!(form, pairs(&[("c", "x")]));
    assert_eq!(form_of(out.body(3)), pairs(&[("d", "y")]));

    wd.write(
        "none.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n[form]\nextra_columns = \"none\"\n",
    );
    let out = dry_run(&wd, "in.csv", "none.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert!(form_of(out.body(2)).is_empty());

    // Renaming or excluding a column that is not there is a mapping error.
    wd.write(
        "bad.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n[form]\nexclude = [\"e\"]\nrename = { \"cc\" = \"C\" }\n",
    );
    let out = dry_run(&wd, "in.csv", "bad.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(out.run.stderr.contains("[form] exclude"), "{:?}", out.run);
    assert!(
        out.run
            .stderr
            .contains("[form] rename: column \"cc\" not found; did you mean \"c\"?"),
        "{:?}",
        out.run
    );
}

#[test]
fn duplicates_point_at_the_first_row() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        "a,b,c\nR1,OB1,x\nR2,OB1,y\n\nR1,OB1,z\nR1, OB1 ,w\nr1,OB1,v\n",
    );
    wd.write(
        "m.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n",
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    assert_eq!(
        out.statuses(),
        statuses(&[
            (2, "valid"),
            (3, "valid"),
            (5, "invalid"),
            (6, "invalid"),
            (7, "valid")
        ])
    );
    assert!(
        out.error(5).starts_with("duplicate of row 2"),
        "{}",
        out.error(5)
    );
    // Cells are trimmed before they are compared.
    assert!(
        out.error(6).starts_with("duplicate of row 2"),
        "{}",
        out.error(6)
    );
    assert_eq!(out.payload_rows(), vec![2, 3, 7]);
}

#[test]
fn duplicates_are_found_exactly_and_leave_no_file_behind() {
    // The duplicate check keeps each first key in an unnamed file beside
    // the results, which needs no temporary folder and is gone at the end.
    let wd = Workdir::new();
    wd.write("in.csv", "a,b\nR1,OB1\nR2,OB1\nR1,OB1\nR1,OB2\nR2,OB1\n");
    wd.write(
        "m.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n",
    );
    let run = common::Run::from(
        wd.command(&[
            "import",
            "in.csv",
            "--mapping",
            "m.toml",
            "--dry-run",
            "--output",
            "out.csv",
        ])
        .env("TMPDIR", wd.path("no-such-folder"))
        .output()
        .unwrap(),
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(!run.stderr.contains("temporary"), "{run:?}");
    let mut left: Vec<String> = std::fs::read_dir(wd.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["in.csv", "m.toml", "out.csv"]);
    let results = common::read_results(&wd.path("out.csv"));
    let got: Vec<(u64, String)> = results
        .iter()
        .map(|r| (r["row"].parse().unwrap(), r["status"].clone()))
        .collect();
    assert_eq!(
        got,
        statuses(&[
            (2, "valid"),
            (3, "valid"),
            (4, "invalid"),
            (5, "valid"),
            (6, "invalid")
        ])
    );
    assert!(
        results[2]["error"].starts_with("duplicate of row 2"),
        "{results:?}"
    );
    assert!(
        results[4]["error"].starts_with("duplicate of row 3"),
        "{results:?}"
    );
}

// ---------------------------------------------------------------- outputs and exit codes

#[test]
fn results_hold_one_line_per_data_row_sorted_and_payloads_one_per_valid_row() {
    let wd = Workdir::new();
    let mut text = String::from("a;b;Saldo;Ciudad\n");
    let mut expected = Vec::new();
    let mut line = 1u64;
    for i in 0..300u64 {
        if i % 37 == 0 {
            text.push('\n');
            line += 1;
        }
        line += 1;
        let bad = i % 7 == 3;
        let saldo = if bad {
            "x".to_string()
        } else {
            format!("{i},5")
        };
        if i % 11 == 0 {
            // A record over two lines is one row.
            text.push_str(&format!("R{i};OB{i};{saldo};\"Santa\nMarta\"\n"));
            expected.push((line, bad));
        } else {
            text.push_str(&format!("R{i};OB{i};{saldo};Cali\n"));
            expected.push((line, bad));
        }
    }
    wd.write("in.csv", &text);
    wd.write(
        "m.toml",
        "[source]\ndecimal_separator = \",\"\n[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\ntotal_balance = { column = \"Saldo\", type = \"number\" }\n",
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    let want: Vec<(u64, String)> = expected
        .iter()
        .map(|(r, bad)| (*r, if *bad { "invalid" } else { "valid" }.to_string()))
        .collect();
    assert_eq!(out.statuses(), want);
    let valid_rows: Vec<u64> = expected
        .iter()
        .filter(|(_, b)| !b)
        .map(|(r, _)| *r)
        .collect();
    assert_eq!(out.payload_rows(), valid_rows);
    for (r, bad) in &expected {
        let line = out.result(*r);
        assert_eq!(line["attempts"], "0");
        assert_eq!(line["http_status"], "");
        assert_eq!(line["api_code"], "");
        assert_eq!(line["obligation_wolkvox_id"], "");
        assert_eq!(line["error"].is_empty(), !bad, "row {r}: {line:?}");
    }
    // The payload of a valid row is the body for that very row.
    let (r, _) = expected[1];
    assert_eq!(out.body(r)["fields"]["id"], "OB1");
    assert_eq!(out.body(r)["fields"]["total_balance"], "1.5");
}

#[test]
fn exit_codes_and_the_default_output() {
    let wd = Workdir::new();
    wd.write(
        "m.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n",
    );

    wd.write("ok.csv", "a,b\nR1,OB1\n");
    let run = wd.run(&["import", "ok.csv", "--mapping", "m.toml", "--dry-run"]);
    assert_eq!(run.code, 0, "{run:?}");
    // --output defaults to the input's name followed by .results.csv.
    let results = common::read_results(&wd.path("ok.csv.results.csv"));
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["status"], "valid");
    assert!(run.stderr.contains("ok.csv.results.csv"), "{run:?}");

    wd.write("some.csv", "a,b\nR1,OB1\nR2,\n");
    let out = dry_run(&wd, "some.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);

    let out = dry_run(&wd, "missing.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(
        out.run.stderr.contains("missing.csv: no such file"),
        "{:?}",
        out.run
    );
    assert!(out.results.is_empty());

    // An empty file, or only blank lines: no header, no rows; nothing
    // wrong in the file's rows, nothing to do, and a warning.
    for name in ["empty.csv", "blank.csv"] {
        wd.write("empty.csv", "");
        wd.write("blank.csv", "\n\r\n  \n");
        let stem = name.trim_end_matches(".csv");
        let report = format!("{stem}.html");
        let out = dry_run(&wd, name, "m.toml", &["--report", &report]);
        assert_eq!(out.run.code, 0, "{:?}", out.run);
        assert!(
            out.run
                .stderr
                .contains(&format!("{name} is empty: it has no header row")),
            "{:?}",
            out.run
        );
        assert!(out.results.is_empty() && out.payloads.is_empty());
        assert!(wd.path(&format!("{stem}.results.csv")).exists());
        let page = wd.read(&report);
        assert!(
            page.contains("The file is empty: it has no header row")
                && !page.contains("has a header but no data rows"),
            "{page}"
        );
    }

    // A header and no rows: nothing wrong, nothing to do.
    wd.write("header_only.csv", "a,b\r\n");
    let out = dry_run(&wd, "header_only.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert!(wd.path("header_only.results.csv").exists());
    assert!(out.results.is_empty());
    assert!(out.payloads.is_empty());

    // The outputs must never overwrite the input.
    let run = wd.run(&[
        "import",
        "ok.csv",
        "--mapping",
        "m.toml",
        "--dry-run",
        "--output",
        "ok.csv",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(wd.path("ok.csv")).unwrap(),
        "a,b\nR1,OB1\n"
    );
}

/// A Windows-1252, `;`-delimited file with cell errors.
fn legacy_file() -> Vec<u8> {
    let text = cartera(&[
        "R1;OB1;Tarjeta;1.000,00;;;2024-01-31;90;Bogotá;;",
        "R1;OB2;Crédito;mil;;;2024-01-31;9,5;Medellín;nota;",
        "",
        "R1;OB3;Crédito;5,00;;31/02/2024;2024-01-31;3;Cúcuta;;311",
    ]);
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!unmappable);
    bytes.into_owned()
}

#[test]
fn rejects_keep_the_inputs_shape_and_read_back_to_the_same_errors() {
    let wd = Workdir::new();
    wd.write("in.csv", legacy_file());
    wd.write(
        "m.toml",
        CARTERA_MAPPING.replace("[source]", "[source]\nencoding = \"windows-1252\""),
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    assert_eq!(
        out.statuses(),
        statuses(&[(2, "valid"), (3, "invalid"), (5, "invalid")])
    );

    // Same delimiter and encoding as the input (ó is the single byte 0xF3).
    let bytes = std::fs::read(&out.rejects).unwrap();
    assert!(!bytes.starts_with(b"\xEF\xBB\xBF"));
    assert!(bytes.contains(&0xF3));
    assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8");
    let table = read_csv_table(&out.rejects, b';', encoding_rs::WINDOWS_1252);
    let mut header: Vec<String> = CARTERA_HEADER.split(';').map(str::to_string).collect();
    header.push("error".into());
    assert_eq!(table[0], header);
    assert_eq!(
        table.len(),
        3,
        "header and the two rejected rows: {table:?}"
    );
    assert_eq!(
        table[1],
        [
            "R1",
            "OB2",
            "Crédito",
            "mil",
            "",
            "",
            "2024-01-31",
            "9,5",
            "Medellín",
            "nota",
            "",
            out.error(3)
        ]
    );
    assert_eq!(table[2][10], "311");
    assert_eq!(table[2][11], out.error(5));

    // Importing the rejects file with the same mapping finds the same errors.
    std::fs::copy(&out.rejects, wd.path("again.csv")).unwrap();
    let again = dry_run(&wd, "again.csv", "m.toml", &[]);
    assert_eq!(again.run.code, 1, "{:?}", again.run);
    let errors = |o: &dry_run_support::DryRun| -> Vec<String> {
        o.results.iter().map(|r| r["error"].clone()).collect()
    };
    assert_eq!(errors(&again), errors(&out)[1..]);
    assert!(again.payloads.is_empty());
}

/// A row of the wrong width is written to the rejects file as it came, its
/// error after its own cells: padded, a short row would read back as valid
/// with its cells under the wrong columns. Read back unfixed, both rows are
/// refused again.
#[test]
fn rows_of_the_wrong_width_stay_invalid_through_the_rejects_file() {
    let wd = Workdir::new();
    // Row 3 lost a delimiter (two cells ran together); row 4 has a stray one.
    wd.write(
        "in.csv",
        "a;b;Saldo;Ciudad\nR1;OB1;10;Cali\nR1;OB2;10 Pasto\nR1;OB3;1;0;Neiva\n",
    );
    wd.write(
        "m.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n[form]\nextra_columns = \"all\"\n",
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    assert_eq!(
        out.statuses(),
        statuses(&[(2, "valid"), (3, "invalid"), (4, "invalid")])
    );
    let table = read_csv_table(&out.rejects, b';', encoding_rs::UTF_8);
    assert_eq!(table[0], ["a", "b", "Saldo", "Ciudad", "error"]);
    assert_eq!(table[1], ["R1", "OB2", "10 Pasto", out.error(3)]);
    assert_eq!(table[2], ["R1", "OB3", "1", "0", "Neiva", out.error(4)]);
    // Imported again unchanged, both rows are still refused.
    std::fs::copy(&out.rejects, wd.path("again.csv")).unwrap();
    let again = dry_run(&wd, "again.csv", "m.toml", &[]);
    assert_eq!(
        again.statuses(),
        statuses(&[(2, "invalid"), (3, "invalid")])
    );
}

#[test]
fn rejects_of_a_utf16_file_read_back_to_the_same_errors() {
    let wd = Workdir::new();
    let text = "a\tb\tSaldo\tCiudad\r\nR1\tOB1\t10\tBogotá\r\nR1\tOB2\tdiez\tMedellín\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    wd.write("in.csv", &bytes);
    wd.write(
        "m.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\ntotal_balance = { column = \"Saldo\", type = \"number\" }\n",
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    assert_eq!(out.statuses(), statuses(&[(2, "valid"), (3, "invalid")]));
    // encoding_rs writes no UTF-16, so the rejects are UTF-8 with a BOM
    // (which the reader honours) in the input's delimiter.
    let raw = std::fs::read(&out.rejects).unwrap();
    assert!(raw.starts_with(b"\xEF\xBB\xBF"), "{raw:?}");
    let table = read_csv_table(&out.rejects, b'\t', encoding_rs::UTF_8);
    assert_eq!(table[0], ["a", "b", "Saldo", "Ciudad", "error"]);
    assert_eq!(table[1][..4], ["R1", "OB2", "diez", "Medellín"]);
    std::fs::copy(&out.rejects, wd.path("again.csv")).unwrap();
    let again = dry_run(&wd, "again.csv", "m.toml", &[]);
    assert_eq!(again.run.code, 1, "{:?}", again.run);
    assert_eq!(again.statuses(), statuses(&[(2, "invalid")]));
    assert_eq!(again.error(2), out.error(3));
}

#[test]
fn rejects_of_a_file_with_a_title_block_keep_its_header_row() {
    let wd = Workdir::new();
    // The title shares the delimiter, so detection still sees it (see
    // readers.rs for a title without one).
    wd.write(
        "in.csv",
        "Reporte|31/01/2024\n\n\na|b|Saldo\nR1|OB1|10\nR1|OB2|diez\n",
    );
    wd.write(
        "m.toml",
        "[source]\nheader_row = 4\n[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\ntotal_balance = { column = \"Saldo\", type = \"number\" }\n",
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    assert_eq!(out.statuses(), statuses(&[(5, "valid"), (6, "invalid")]));
    let table = read_csv_table(&out.rejects, b'|', encoding_rs::UTF_8);
    assert_eq!(table[0], ["a", "b", "Saldo", "error"]);
    std::fs::copy(&out.rejects, wd.path("again.csv")).unwrap();
    let again = dry_run(&wd, "again.csv", "m.toml", &[]);
    assert_eq!(again.run.code, 1, "{:?}", again.run);
    assert_eq!(again.statuses(), statuses(&[(5, "invalid")]));
    assert_eq!(again.error(5), out.error(6));
}

#[test]

fn a_fixed_rejects_file_sends_what_the_original_row_would_have() {
    let wd = Workdir::new();
    wd.write("in.csv", "a,b,Saldo,Ciudad\nR1,OB1,diez,Cali\n");
    wd.write(
        "m.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\ntotal_balance = { column = \"Saldo\", type = \"number\" }\n",
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    // The person fixes the cell and leaves the error note, as people do.
    let fixed = std::fs::read_to_string(&out.rejects)
        .unwrap()
        .replace(",diez,", ",10,");
    wd.write("fixed.csv", fixed);
    let again = dry_run(&wd, "fixed.csv", "m.toml", &[]);
    assert_eq!(again.run.code, 0, "{:?}", again.run);
    assert_eq!(form_of(again.body(2)), pairs(&[("Ciudad", "Cali")]));
}

// ---------------------------------------------------------------- inspect and mapping init

#[test]
fn inspect_shows_how_the_file_reads() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        "ID Registro;Nro Obligación;Saldo Total;Días Mora;Fecha Vencimiento;Ciudad;Vacía\r\n\
         R1;0012;1.234,50;90;31/01/2024;Cali;\r\n\
         R2;0013;99,00;0;15/02/2024;;\r\n\
         \r\n\
         R3;0014;7,25;12;01/03/2024;Pasto;\r\n",
    );
    let run = wd.run(&["inspect", "in.csv"]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    for want in [
        "format: CSV, delimiter \";\" (detected)",
        "encoding: UTF-8",
        "header row: 1",
        "data rows: 3",
        "decimal separator in number texts: \",\"",
        "1. \"ID Registro\"  text  e.g. \"R1\", \"R2\", \"R3\"",
        // Leading zeros keep an id as text.
        "2. \"Nro Obligación\"  text  e.g. \"0012\", \"0013\", \"0014\"",
        "3. \"Saldo Total\"  number  e.g. \"1.234,50\", \"99,00\", \"7,25\"",
        "4. \"Días Mora\"  integer  e.g. \"90\", \"0\", \"12\"",
        "5. \"Fecha Vencimiento\"  date (%d/%m/%Y)  e.g. \"31/01/2024\"",
        "6. \"Ciudad\"  text  e.g. \"Cali\", \"Pasto\"",
        "7. \"Vacía\"  empty  e.g. -",
    ] {
        assert!(
            lines.iter().any(|l| l.trim_start().starts_with(want)),
            "missing {want:?} in:\n{}",
            run.stdout
        );
    }

    let run = wd.run(&["inspect", "absent.csv"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("absent.csv"), "{run:?}");
}

#[test]
fn mapping_init_for_spanish_headers_dry_runs_the_same_file() {
    let wd = Workdir::new();
    wd.write(
        "cartera.csv",
        "ID Registro;Nro Obligación;Producto;Saldo Total;Días Mora;Fecha Vencimiento;Ciudad;Tel Celular\r\n\
         R1;0012;Tarjeta;1.234,50;90;31/01/2024;Cali;300\r\n\
         R2;0013;Crédito;99,00;0;15/02/2024;;\r\n",
    );
    let init = wd.run(&["mapping", "init", "cartera.csv"]);
    assert_eq!(init.code, 0, "{init:?}");
    let text = &init.stdout;
    let value: toml::Value = toml::from_str(text).expect("the starter mapping is TOML");
    assert_eq!(value["request"]["operation"].as_str(), Some("CHANGE_ME"));
    assert_eq!(value["source"]["delimiter"].as_str(), Some(";"));
    assert_eq!(value["source"]["decimal_separator"].as_str(), Some(","));
    let fields = &value["fields"];
    assert_eq!(fields["wolkvox_id"].as_str(), Some("ID Registro"));
    assert_eq!(fields["id"].as_str(), Some("Nro Obligación"));
    assert_eq!(
        fields["total_balance"]["column"].as_str(),
        Some("Saldo Total")
    );
    assert_eq!(fields["total_balance"]["type"].as_str(), Some("number"));
    assert_eq!(fields["days_delay"]["column"].as_str(), Some("Días Mora"));
    assert_eq!(fields["days_delay"]["type"].as_str(), Some("integer"));
    assert_eq!(
        fields["expiring_date"]["column"].as_str(),
        Some("Fecha Vencimiento")
    );
    assert_eq!(fields["expiring_date"]["type"].as_str(), Some("date"));
    assert_eq!(value["form"]["extra_columns"].as_str(), Some("all"));

    wd.write("m.toml", text);
    // The placeholder operation is fine for a dry run.
    let out = dry_run(&wd, "cartera.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    let b = out.body(2);
    assert_eq!(b["operation"], "CHANGE_ME");
    assert_eq!(b["fields"]["id"], "0012");
    assert_eq!(b["fields"]["total_balance"], "1234.5");
    assert_eq!(b["fields"]["days_delay"], "90");
    assert_eq!(b["fields"]["expiring_date"], "31-01-2024");
    assert_eq!(
        form_of(b),
        pairs(&[("Ciudad", "Cali"), ("Tel Celular", "300")])
    );
    let out = dry_run(&wd, "cartera.csv", "m.toml", &["--operation", "cobranza"]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.body(3)["operation"], "cobranza");
}

#[test]
fn mapping_init_for_english_and_snake_case_headers() {
    let wd = Workdir::new();
    wd.write(
        "portfolio.csv",
        "record_id,obligation_id,saldo_total,Total Balance,due_date,days_past_due,notes\n\
         w1,o1,100.5,7,2024-01-31,3,call after 5\n\
         w1,o2,\"1,250.00\",8,2024-02-29,0,\n",
    );
    let init = wd.run(&["mapping", "init", "portfolio.csv", "--operation", "cob"]);
    assert_eq!(init.code, 0, "{init:?}");
    let value: toml::Value = toml::from_str(&init.stdout).expect("TOML");
    assert_eq!(value["request"]["operation"].as_str(), Some("cob"));
    let fields = &value["fields"];
    assert_eq!(fields["wolkvox_id"].as_str(), Some("record_id"));
    assert_eq!(fields["id"].as_str(), Some("obligation_id"));
    // The first of two candidates serves the field; the other goes to form.
    assert_eq!(
        fields["total_balance"]["column"].as_str(),
        Some("saldo_total")
    );
    assert_eq!(fields["expiring_date"]["column"].as_str(), Some("due_date"));
    assert_eq!(
        fields["days_delay"]["column"].as_str(),
        Some("days_past_due")
    );

    wd.write("m.toml", &init.stdout);
    let out = dry_run(&wd, "portfolio.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.statuses(), statuses(&[(2, "valid"), (3, "valid")]));
    let b = out.body(3);
    assert_eq!(b["operation"], "cob");
    assert_eq!(b["fields"]["total_balance"], "1250");
    assert_eq!(b["fields"]["expiring_date"], "29-02-2024");
    assert_eq!(form_of(b), pairs(&[("Total Balance", "8")]));
    assert_eq!(
        form_of(out.body(2)),
        pairs(&[("Total Balance", "7"), ("notes", "call after 5")])
    );

    // A header-only "Total Balance" file maps it too.
    wd.write("tb.csv", "Wolkvox ID,Obligation,Total Balance\nw1,o1,5\n");
    let init = wd.run(&["mapping", "init", "tb.csv"]);
    assert_eq!(init.code, 0, "{init:?}");
    let value: toml::Value = toml::from_str(&init.stdout).expect("TOML");
    assert_eq!(
        value["fields"]["total_balance"]["column"].as_str(),
        Some("Total Balance")
    );
    wd.write("tb.toml", &init.stdout);
    let out = dry_run(&wd, "tb.csv", "tb.toml", &["--operation", "x"]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.body(2)["fields"]["total_balance"], "5");
}

#[test]

fn mapping_init_on_a_windows_1252_file_sets_the_encoding() {
    let wd = Workdir::new();
    wd.write("in.csv", legacy_file());
    let init = wd.run(&["mapping", "init", "in.csv", "--operation", "x"]);
    assert_eq!(init.code, 0, "{init:?}");
    let value: toml::Value = toml::from_str(&init.stdout).expect("TOML");
    assert_eq!(
        value["source"].get("encoding").and_then(|v| v.as_str()),
        Some("windows-1252"),
        "{}",
        init.stdout
    );
    assert_eq!(value["fields"]["id"].as_str(), Some("Nro Obligación"));
    let inspect = wd.run(&["inspect", "in.csv"]);
    assert!(inspect.stdout.contains("windows-1252"), "{inspect:?}");
}
