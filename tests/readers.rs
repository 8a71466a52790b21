//! Reading portfolio files as banks export them, through the real binary's
//! dry run: CSV delimiters, encodings, quoting, line ends, ragged rows, blank
//! lines and title blocks; xlsx sheets, header rows, numbers, dates and error
//! cells. Every check reads the outputs back as data.

mod common;
mod dry_run_support;

use common::Workdir;
use dry_run_support::{dry_run, form_of, pairs, read_csv_table};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use serde_json::json;

/// Maps the first two columns `a` and `b` to `wolkvox_id` and `id`; every
/// other column goes to `form`.
const AB: &str = r#"
[request]
operation = "cobranza"
[fields]
wolkvox_id = "a"
id = "b"
"#;

fn statuses(v: &[(u64, &str)]) -> Vec<(u64, String)> {
    v.iter().map(|(r, s)| (*r, s.to_string())).collect()
}

// ---------------------------------------------------------------- CSV

#[test]
fn each_delimiter_is_detected() {
    for (name, d) in [
        ("comma", ','),
        ("semicolon", ';'),
        ("tab", '\t'),
        ("pipe", '|'),
    ] {
        let wd = Workdir::new();
        // The other candidates appear inside cells and must not fool detection.
        let other = match d {
            ',' => "x;y|z",
            _ => "1,5",
        };
        let text = format!("a{d}b{d}c\nR1{d}OB1{d}{other}\nR2{d}OB2{d}plain\n");
        wd.write("in.csv", &text);
        wd.write("m.toml", AB);
        let out = dry_run(&wd, "in.csv", "m.toml", &[]);
        assert_eq!(out.run.code, 0, "{name}: {:?}", out.run);
        assert_eq!(
            out.statuses(),
            statuses(&[(2, "valid"), (3, "valid")]),
            "{name}"
        );
        assert_eq!(out.body(2)["wolkvox_id"], "R1", "{name}");
        assert_eq!(out.body(2)["fields"]["id"], "OB1", "{name}");
        assert_eq!(form_of(out.body(2)), pairs(&[("c", other)]), "{name}");

        let inspect = wd.run(&["inspect", "in.csv"]);
        assert_eq!(inspect.code, 0, "{name}: {inspect:?}");
        let shown = if d == '\t' {
            "delimiter TAB (detected)".to_string()
        } else {
            format!("delimiter \"{d}\" (detected)")
        };
        assert!(inspect.stdout.contains(&shown), "{name}: {inspect:?}");
    }
}

#[test]
fn the_mapping_delimiter_overrides_detection() {
    let wd = Workdir::new();
    // Commas and semicolons are equally consistent: detection picks the comma.
    wd.write("in.csv", "a,x;b,y;c\nR1,1;OB1,2;3\n");
    wd.write(
        "m.toml",
        r#"
[source]
delimiter = ";"
[request]
operation = "cobranza"
[fields]
wolkvox_id = "a,x"
id = "b,y"
"#,
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.body(2)["wolkvox_id"], "R1,1");
    assert_eq!(out.body(2)["fields"]["id"], "OB1,2");
    assert_eq!(form_of(out.body(2)), pairs(&[("c", "3")]));

    // A tab written as the two characters \t in TOML.
    wd.write("tab.csv", "a\tb\tc,d\nR1\tOB1\t1,5\n");
    wd.write(
        "tab.toml",
        "[source]\ndelimiter = '\\t'\n[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n",
    );
    let out = dry_run(&wd, "tab.csv", "tab.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(form_of(out.body(2)), pairs(&[("c,d", "1,5")]));
}

/// Windows-1252 bytes for a Spanish portfolio.
fn cp1252(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

const SPANISH_MAPPING: &str = r#"
[source]
encoding = "windows-1252"
decimal_separator = ","
[request]
operation = "cobranza"
[fields]
wolkvox_id = "ID Registro"
id = "Nro Obligación"
name = "Producto"
total_balance = { column = "Saldo Total", type = "number" }
days_delay = { column = "Días Mora", type = "integer" }
"#;

#[test]
fn windows_1252_with_the_encoding_set() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        cp1252(
            "ID Registro;Nro Obligación;Producto;Saldo Total;Días Mora;Señas\r\n\
             R1;OB-ñ1;Crédito Fácil;€ 1.234,50;90;Calle 5 # 3-20, Bogotá\r\n",
        ),
    );
    assert!(std::fs::read(wd.path("in.csv")).unwrap().contains(&0xF3));
    wd.write("m.toml", SPANISH_MAPPING);
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    let b = out.body(2);
    assert_eq!(b["fields"]["id"], "OB-ñ1");
    assert_eq!(b["fields"]["name"], "Crédito Fácil");
    assert_eq!(b["fields"]["total_balance"], "1234.5");
    assert_eq!(b["fields"]["days_delay"], "90");
    assert_eq!(form_of(b), pairs(&[("Señas", "Calle 5 # 3-20, Bogotá")]));
    let inspect = wd.run(&["inspect", "in.csv", "--mapping", "m.toml"]);
    assert_eq!(inspect.code, 0, "{inspect:?}");
    assert!(inspect.stdout.contains("windows-1252"), "{inspect:?}");
    assert!(inspect.stdout.contains("\"Nro Obligación\""), "{inspect:?}");
}

#[test]
fn byte_order_marks_are_honoured_and_stripped() {
    let text = "ID Registro;Nro Obligación;Ciudad\r\nR1;OB-ñ;Bogotá\r\n";
    let mut utf16le = vec![0xFF, 0xFE];
    let mut utf16be = vec![0xFE, 0xFF];
    for u in text.encode_utf16() {
        utf16le.extend_from_slice(&u.to_le_bytes());
        utf16be.extend_from_slice(&u.to_be_bytes());
    }
    let mut utf8 = b"\xEF\xBB\xBF".to_vec();
    utf8.extend_from_slice(text.as_bytes());
    // The mapping names the first header, which the BOM would otherwise spoil,
    // and says nothing about the encoding: the BOM decides.
    let mapping = r#"
[request]
operation = "cobranza"
[fields]
wolkvox_id = "ID Registro"
id = "Nro Obligación"
"#;
    for (name, bytes, shown) in [
        ("utf8", utf8, "UTF-8 (with a UTF-8 byte-order mark)"),
        (
            "utf16le",
            utf16le,
            "UTF-16LE (with a UTF-16LE byte-order mark)",
        ),
        (
            "utf16be",
            utf16be,
            "UTF-16BE (with a UTF-16BE byte-order mark)",
        ),
    ] {
        let wd = Workdir::new();
        wd.write("in.csv", &bytes);
        wd.write("m.toml", mapping);
        let out = dry_run(&wd, "in.csv", "m.toml", &[]);
        assert_eq!(out.run.code, 0, "{name}: {:?}", out.run);
        let b = out.body(2);
        assert_eq!(b["wolkvox_id"], "R1", "{name}");
        assert_eq!(b["fields"]["id"], "OB-ñ", "{name}");
        assert_eq!(form_of(b), pairs(&[("Ciudad", "Bogotá")]), "{name}");

        let inspect = wd.run(&["inspect", "in.csv"]);
        assert_eq!(inspect.code, 0, "{name}: {inspect:?}");
        assert!(inspect.stdout.contains(shown), "{name}: {inspect:?}");
        assert!(
            inspect.stdout.contains("1. \"ID Registro\""),
            "{name}: the first header keeps no BOM: {inspect:?}"
        );
    }
}

#[test]

fn invalid_utf8_without_an_encoding_is_refused_naming_the_row() {
    let wd = Workdir::new();
    // Windows-1252 bytes (ó = 0xF3) in row 3, with a multi-line record before
    // it so that the row is counted as a spreadsheet shows it.
    let mut bytes = b"a;b;c\n\"R\n1\";OB1;x\n".to_vec();
    bytes.extend_from_slice(b"R2;Obligaci\xF3n;y\n");
    wd.write("in.csv", &bytes);
    wd.write("m.toml", AB);
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(out.run.stderr.contains("in.csv"), "{:?}", out.run);
    assert!(out.run.stderr.contains("row 3"), "{:?}", out.run);
    assert!(
        out.run.stderr.contains("encoding = \"windows-1252\""),
        "{:?}",
        out.run
    );
    assert!(out.payloads.is_empty());
}

#[test]

fn invalid_utf8_far_into_the_file_is_never_sent() {
    let wd = Workdir::new();
    let mut bytes = b"a;b;c\n".to_vec();
    for i in 0..5000 {
        bytes.extend_from_slice(format!("R{i};OB{i};texto de relleno\n").as_bytes());
    }
    assert!(bytes.len() > 64 * 1024);
    bytes.extend_from_slice(b"R-last;OB-last;Bogot\xE1\n");
    let last_row = 5002;
    wd.write("in.csv", &bytes);
    wd.write("m.toml", AB);
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    // Either the whole file is refused naming the row, or that row is invalid
    // with the same advice; it is never sent with replacement characters.
    if out.run.code == 2 {
        assert!(
            out.run.stderr.contains(&format!("row {last_row}")),
            "{:?}",
            out.run
        );
        assert!(out.run.stderr.contains("windows-1252"), "{:?}", out.run);
    } else {
        assert_eq!(out.run.code, 1, "{:?}", out.run);
        assert_eq!(out.result(last_row)["status"], "invalid");
        assert!(out.error(last_row).contains("windows-1252"));
        assert!(!out.payload_rows().contains(&last_row));
    }
    let all = std::fs::read_to_string(wd.path("in.payloads.jsonl")).unwrap_or_default();
    assert!(!all.contains('\u{FFFD}'));
}

#[test]
fn quoted_fields_with_line_breaks_and_quotes_crlf_and_lf() {
    for (name, nl) in [("lf", "\n"), ("crlf", "\r\n")] {
        let wd = Workdir::new();
        let text = [
            "a,b,c",
            "R1,OB1,\"line one",
            "line two, with comma\"",
            "R2,\"OB \"\"2\"\"\",\"say \"\"hola\"\"\"",
            "\"R",
            "3\",OB3,plain",
            "R4,OB4,last",
            "",
        ]
        .join(nl);
        wd.write("in.csv", &text);
        wd.write("m.toml", AB);
        let out = dry_run(&wd, "in.csv", "m.toml", &[]);
        assert_eq!(out.run.code, 0, "{name}: {:?}", out.run);
        // A record with line breaks inside quotes is one row.
        assert_eq!(
            out.statuses(),
            statuses(&[(2, "valid"), (3, "valid"), (4, "valid"), (5, "valid")]),
            "{name}"
        );
        assert_eq!(
            form_of(out.body(2)),
            pairs(&[("c", &format!("line one{nl}line two, with comma"))]),
            "{name}"
        );
        assert_eq!(out.body(3)["fields"]["id"], "OB \"2\"", "{name}");
        assert_eq!(
            form_of(out.body(3)),
            pairs(&[("c", "say \"hola\"")]),
            "{name}"
        );
        assert_eq!(out.body(4)["wolkvox_id"], format!("R{nl}3"), "{name}");
        assert_eq!(out.body(5)["wolkvox_id"], "R4", "{name}");
        assert_eq!(out.result(3)["obligation_id"], "OB \"2\"", "{name}");
    }
}

#[test]
fn rows_of_the_wrong_width_are_invalid_not_fatal() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        "a,b,c\nR1,OB1,x\nR2,OB2\nR3,OB3,x,extra\nR4,OB4,x,\nR5,OB5,x\n",
    );
    wd.write("m.toml", AB);
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    assert_eq!(
        out.statuses(),
        statuses(&[
            (2, "valid"),
            (3, "invalid"),
            (4, "invalid"),
            // A trailing empty cell (a delimiter at the end of the line) is harmless.
            (5, "valid"),
            (6, "valid"),
        ])
    );
    assert!(
        out.error(3)
            .contains("the row has 2 cells but the header has 3"),
        "{}",
        out.error(3)
    );
    assert!(
        out.error(4)
            .contains("the row has 4 cells but the header has 3"),
        "{}",
        out.error(4)
    );
    // What could be read of the row still identifies it.
    assert_eq!(out.result(3)["wolkvox_id"], "R2");
    assert_eq!(out.result(3)["obligation_id"], "OB2");
    assert_eq!(out.payload_rows(), vec![2, 5, 6]);
}

#[test]
fn blank_lines_are_skipped_but_counted() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        "a,b,c\r\n\r\nR1,OB1,x\r\n,,\r\n   \r\n\"R2\",OB2,\"multi\r\nline\"\r\n\r\n\r\nR3,OB3,y\r\n\r\n",
    );
    wd.write("m.toml", AB);
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    // Line 2 is blank, line 4 holds only delimiters, line 5 only spaces:
    // skipped, never reported, but they keep their numbers.
    assert_eq!(
        out.statuses(),
        statuses(&[(3, "valid"), (6, "valid"), (9, "valid")])
    );
    assert_eq!(out.payload_rows(), vec![3, 6, 9]);
}

#[test]
fn header_row_below_a_title_block() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        "Banco Ejemplo S.A.\nReporte de cartera al 31/01/2024\n\nID Registro,Nro Obligación,Ciudad\nR1,OB1,Cali\n\nR2,OB2,Pasto\n",
    );
    wd.write(
        "m.toml",
        r#"
[source]
header_row = 4
[request]
operation = "cobranza"
[fields]
wolkvox_id = "ID Registro"
id = "Nro Obligación"
"#,
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.statuses(), statuses(&[(5, "valid"), (7, "valid")]));
    assert_eq!(form_of(out.body(7)), pairs(&[("Ciudad", "Pasto")]));

    // A header_row on a blank line, or past the end, is refused with its number.
    for (n, says) in [("3", "row 3"), ("40", "no row 40")] {
        wd.write(
            "bad.toml",
            format!(
                "[source]\nheader_row = {n}\n[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n"
            ),
        );
        let out = dry_run(&wd, "in.csv", "bad.toml", &[]);
        assert_eq!(out.run.code, 2, "{:?}", out.run);
        assert!(out.run.stderr.contains(says), "{:?}", out.run);
        assert!(out.run.stderr.contains("header_row"), "{:?}", out.run);
    }
}

#[test]

fn header_row_below_a_title_without_delimiters() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        "Reporte de cartera vencida\n\n\nID Registro;Nro Obligación;Saldo\nR1;OB1;1.000,5\nR1;OB2;7\n",
    );
    wd.write(
        "m.toml",
        r#"
[source]
header_row = 4
[request]
operation = "cobranza"
[fields]
wolkvox_id = "ID Registro"
id = "Nro Obligación"
"#,
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.statuses(), statuses(&[(5, "valid"), (6, "valid")]));
    assert_eq!(form_of(out.body(5)), pairs(&[("Saldo", "1.000,5")]));
    let inspect = wd.run(&["inspect", "in.csv", "--mapping", "m.toml"]);
    assert!(
        inspect.stdout.contains("delimiter \";\" (detected)"),
        "{inspect:?}"
    );
}

#[test]
fn a_text_file_named_xls_is_refused_with_advice() {
    let wd = Workdir::new();
    wd.write("in.xls", "a;b\nR1;OB1\n");
    wd.write("m.toml", AB);
    let out = dry_run(&wd, "in.xls", "m.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(out.run.stderr.contains("in.xls"), "{:?}", out.run);
    assert!(
        out.run.stderr.contains("rename it to .csv"),
        "{:?}",
        out.run
    );
}

// ---------------------------------------------------------------- xlsx

/// A value for one cell of a test workbook.
enum X {
    S(&'static str),
    N(f64),
    /// A date cell, formatted as a date.
    D(u16, u8, u8),
    /// A formula with its cached result.
    F(&'static str, &'static str),
    /// A formatted cell with nothing in it.
    Blank,
}

/// Writes `sheets` (name, rows from row 1) to `path`. `None` leaves a cell
/// unwritten.
fn workbook(path: &std::path::Path, sheets: &[(&str, Vec<Vec<Option<X>>>)]) {
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let boxed = Format::new().set_border(rust_xlsxwriter::FormatBorder::Thin);
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    None => {}
                    Some(X::S(s)) => {
                        ws.write_string(r, c, *s).unwrap();
                    }
                    Some(X::N(n)) => {
                        ws.write_number(r, c, *n).unwrap();
                    }
                    Some(X::D(y, m, d)) => {
                        let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                        ws.write_datetime_with_format(r, c, &dt, &date).unwrap();
                    }
                    Some(X::F(f, result)) => {
                        ws.write_formula(r, c, Formula::new(*f).set_result(*result))
                            .unwrap();
                    }
                    Some(X::Blank) => {
                        ws.write_blank(r, c, &boxed).unwrap();
                    }
                }
            }
        }
    }
    wb.save(path).unwrap();
}

fn s(v: &'static str) -> Option<X> {
    Some(X::S(v))
}
fn n(v: f64) -> Option<X> {
    Some(X::N(v))
}

const XLSX_MAPPING: &str = r#"
[request]
operation = "cobranza"
[fields]
wolkvox_id = "ID Registro"
id = "Nro Obligación"
total_balance = { column = "Saldo Total", type = "number" }
expiring_date = { column = "Fecha Vencimiento", type = "date" }
days_delay = { column = "Días Mora", type = "integer" }
"#;

fn header() -> Vec<Option<X>> {
    vec![
        s("ID Registro"),
        s("Nro Obligación"),
        s("Saldo Total"),
        s("Fecha Vencimiento"),
        s("Días Mora"),
        s("Cédula"),
        s("Desembolso"),
    ]
}

#[test]
fn xlsx_numbers_dates_and_ids_as_excel_shows_them() {
    let wd = Workdir::new();
    workbook(
        &wd.path("in.xlsx"),
        &[(
            "Cartera",
            vec![
                header(),
                vec![
                    n(900123.0),
                    n(1234567890123.0),
                    n(10000.0),
                    Some(X::D(2023, 6, 6)),
                    n(90.0),
                    n(1020304050.0),
                    Some(X::D(2020, 1, 31)),
                ],
                vec![
                    s("R2"),
                    s("00123"),
                    n(1234.56),
                    // A date that reached the sheet as its serial number.
                    n(45123.0),
                    n(0.0),
                    s("  padded  "),
                    n(0.1 + 0.2),
                ],
            ],
        )],
    );
    wd.write("m.toml", XLSX_MAPPING);
    let out = dry_run(&wd, "in.xlsx", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.statuses(), statuses(&[(2, "valid"), (3, "valid")]));
    assert_eq!(
        out.body(2),
        &json!({
            "operation": "cobranza",
            "wolkvox_id": "900123",
            "fields": {
                "id": "1234567890123",
                "name": "",
                "total_balance": "10000",
                "portfolio_type": "",
                "last_pay": "",
                "last_pay_date": "",
                "expiring_date": "06-06-2023",
                "days_delay": "90",
                "form": [
                    {"name": "Cédula", "value": "1020304050"},
                    {"name": "Desembolso", "value": "31-01-2020"}
                ]
            }
        })
    );
    let b = out.body(3);
    assert_eq!(b["fields"]["id"], "00123");
    assert_eq!(b["fields"]["total_balance"], "1234.56");
    assert_eq!(b["fields"]["expiring_date"], "16-07-2023");
    assert_eq!(b["fields"]["days_delay"], "0");
    assert_eq!(
        form_of(b),
        pairs(&[("Cédula", "padded"), ("Desembolso", "0.3")])
    );
    assert_eq!(out.result(2)["obligation_id"], "1234567890123");
    assert_eq!(out.result(2)["wolkvox_id"], "900123");
}

#[test]
fn xlsx_error_cells_make_the_row_invalid_naming_the_column() {
    // rust_xlsxwriter stores a formula's cached result; an error result such
    // as #DIV/0! is written as an error cell (t="e"), as Excel saves it.
    let wd = Workdir::new();
    workbook(
        &wd.path("in.xlsx"),
        &[(
            "Cartera",
            vec![
                header(),
                vec![
                    s("R1"),
                    s("OB1"),
                    Some(X::F("1/0", "#DIV/0!")),
                    Some(X::D(2023, 6, 6)),
                    n(1.0),
                ],
                vec![
                    s("R1"),
                    s("OB2"),
                    n(5.0),
                    Some(X::D(2023, 6, 6)),
                    n(1.0),
                    Some(X::F("NA()", "#N/A")),
                ],
                vec![
                    s("R1"),
                    s("OB3"),
                    Some(X::F("2*3", "6")),
                    Some(X::D(2023, 6, 6)),
                    n(2.5),
                ],
            ],
        )],
    );
    wd.write("m.toml", XLSX_MAPPING);
    let out = dry_run(&wd, "in.xlsx", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    assert_eq!(
        out.statuses(),
        statuses(&[(2, "invalid"), (3, "invalid"), (4, "invalid")])
    );
    assert_eq!(
        out.error(2),
        "column \"Saldo Total\": holds the error value #DIV/0!"
    );
    // An error in a column that only goes to form is still the row's fault.
    assert_eq!(
        out.error(3),
        "column \"Cédula\": holds the error value #N/A"
    );
    // A formula's numeric result is read; a fractional day count is not.
    assert_eq!(
        out.error(4),
        "column \"Días Mora\": \"2.5\" is not a whole number"
    );
    assert!(out.payloads.is_empty());
}

#[test]
fn xlsx_header_on_a_later_row_blank_rows_and_excel_row_numbers() {
    let wd = Workdir::new();
    workbook(
        &wd.path("in.xlsx"),
        &[(
            "Cartera",
            vec![
                vec![s("Banco Ejemplo S.A. - cartera vencida")],
                vec![],
                header(),
                vec![s("R1"), s("OB1"), n(1.0), Some(X::D(2024, 2, 29)), n(3.0)],
                // Formatted but empty cells, and a cell with only spaces.
                vec![Some(X::Blank), Some(X::Blank), s("   ")],
                vec![],
                vec![s("R1"), s("OB2"), n(2.0), Some(X::D(2024, 3, 1)), n(4.0)],
            ],
        )],
    );
    wd.write(
        "m.toml",
        format!("[source]\nheader_row = 3\n{XLSX_MAPPING}"),
    );
    let out = dry_run(&wd, "in.xlsx", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.statuses(), statuses(&[(4, "valid"), (7, "valid")]));
    assert_eq!(out.body(4)["fields"]["expiring_date"], "29-02-2024");
    assert_eq!(out.body(7)["fields"]["id"], "OB2");

    // Without header_row the header is found below the title, with the
    // same rows and numbers.
    wd.write("plain.toml", XLSX_MAPPING);
    let plain = dry_run(&wd, "in.xlsx", "plain.toml", &[]);
    assert_eq!(plain.run.code, 0, "{:?}", plain.run);
    assert_eq!(plain.statuses(), out.statuses());
    assert_eq!(plain.payloads, out.payloads);

    // A header_row pointing at the title is obeyed, and the mapping that
    // does not fit it is told where the header may be.
    wd.write(
        "title.toml",
        format!("[source]\nheader_row = 1\n{XLSX_MAPPING}"),
    );
    let out = dry_run(&wd, "in.xlsx", "title.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(out.run.stderr.contains("(row 1)"), "{:?}", out.run);
    assert!(
        out.run.stderr.contains("looks like a title") && out.run.stderr.contains("header_row"),
        "{:?}",
        out.run
    );
}

#[test]
fn a_title_block_of_several_cells_is_not_taken_for_the_header() {
    // A bank's name beside a report's, then who made it and when: two and
    // four cells over a header of seven.
    let wd = Workdir::new();
    workbook(
        &wd.path("in.xlsx"),
        &[(
            "Cartera",
            vec![
                vec![s("BANCO EJEMPLO S.A."), s("Reporte de cartera castigada")],
                vec![
                    s("Generado por:"),
                    s("usuario1"),
                    s("Fecha:"),
                    Some(X::D(2024, 6, 30)),
                ],
                vec![],
                vec![
                    s("ID Registro"),
                    s("Nro Obligación"),
                    s("Saldo"),
                    s("Vence"),
                    s("Mora"),
                    s("Nombre"),
                    s("Ciudad"),
                ],
                vec![
                    s("R1"),
                    s("OB1"),
                    n(10.0),
                    Some(X::D(2024, 6, 30)),
                    n(5.0),
                    s("Ana"),
                    s("Cali"),
                ],
                vec![
                    s("R2"),
                    s("OB2"),
                    n(20.0),
                    Some(X::D(2024, 7, 1)),
                    n(0.0),
                    s("Luis"),
                    s("Pasto"),
                ],
            ],
        )],
    );
    wd.write(
        "in.csv",
        "BANCO EJEMPLO S.A.;Reporte de cartera castigada\n\
         Generado por:;usuario1;Fecha:;30/06/2024\n\
         \n\
         ID Registro;Nro Obligación;Saldo;Vence;Mora;Nombre;Ciudad\n\
         R1;OB1;10;30/06/2024;5;Ana;Cali\n\
         R2;OB2;20;01/07/2024;0;Luis;Pasto\n",
    );
    wd.write(
        "m.toml",
        "[request]\noperation = \"cobranza\"\n[fields]\nwolkvox_id = \"ID Registro\"\nid = \"Nro Obligación\"\n[form]\nexclude = [\"Saldo\", \"Vence\", \"Mora\"]\n",
    );
    for input in ["in.xlsx", "in.csv"] {
        let out = dry_run(&wd, input, "m.toml", &[]);
        assert_eq!(out.run.code, 0, "{input}: {:?}", out.run);
        assert_eq!(
            out.statuses(),
            statuses(&[(5, "valid"), (6, "valid")]),
            "{input}"
        );
        assert_eq!(
            form_of(out.body(6)),
            pairs(&[("Nombre", "Luis"), ("Ciudad", "Pasto")]),
            "{input}"
        );
        let inspect = wd.run(&["inspect", input]);
        assert!(
            inspect.stdout.contains("header row: 4 (below a title"),
            "{inspect:?}"
        );
    }

    // A header with a column it does not name, over rows of text, is still
    // the header: it names more than half of what the rows hold.
    wd.write(
        "unnamed.csv",
        "ID Registro;Nro Obligación;Nombre;;Ciudad\n\
         R1;OB1;Ana;nota;Cali\n\
         R2;OB2;Luis;otra;Pasto\n",
    );
    wd.write(
        "plain.toml",
        "[request]\noperation = \"cobranza\"\n[fields]\nwolkvox_id = \"ID Registro\"\nid = \"Nro Obligación\"\n",
    );
    let out = dry_run(&wd, "unnamed.csv", "plain.toml", &[]);
    assert_eq!(
        out.statuses(),
        statuses(&[(2, "valid"), (3, "valid")]),
        "{:?}",
        out.run
    );

    // Nor is a header of a few names over wider rows: with empty names as
    // wide as its rows, or over rows that are all text (nothing tells a
    // header below from data then).
    wd.write(
        "empty_names.csv",
        "ID Registro;Nro Obligación;;;;;\nR1;OB1;Ana;Cali;10;5;x\nR2;OB2;Luis;Pasto;20;6;y\n",
    );
    wd.write(
        "all_text.csv",
        "Cliente;Ciudad;Producto\nAna;Bogota;Tarjeta;extra;mas;otra;texto\nLuis;Cali;Credito;extra;mas;otra;texto\n",
    );
    for input in ["empty_names.csv", "all_text.csv"] {
        let inspect = wd.run(&["inspect", input]);
        assert!(inspect.stdout.contains("header row: 1\n"), "{inspect:?}");
    }
}

#[test]
fn xlsx_sheet_by_name_and_unknown_sheet() {
    let wd = Workdir::new();
    workbook(
        &wd.path("in.xlsx"),
        &[
            ("Resumen", vec![vec![s("Total"), n(2.0)]]),
            (
                "Cartera",
                vec![
                    header(),
                    vec![s("R1"), s("OB1"), n(1.0), Some(X::D(2024, 1, 1)), n(3.0)],
                ],
            ),
        ],
    );
    wd.write(
        "m.toml",
        format!("[source]\nsheet = \"Cartera\"\n{XLSX_MAPPING}"),
    );
    let out = dry_run(&wd, "in.xlsx", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.statuses(), statuses(&[(2, "valid")]));

    // --sheet overrides the mapping.
    wd.write("first.toml", XLSX_MAPPING);
    let out = dry_run(&wd, "in.xlsx", "first.toml", &["--sheet", "Cartera"]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);

    // The first sheet by default: its header does not fit.
    let out = dry_run(&wd, "in.xlsx", "first.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);

    let out = dry_run(&wd, "in.xlsx", "first.toml", &["--sheet", "Carteras"]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(
        out.run
            .stderr
            .contains("there is no sheet \"Carteras\"; the sheets are \"Resumen\", \"Cartera\""),
        "{:?}",
        out.run
    );
    assert!(out.run.stderr.contains("in.xlsx"), "{:?}", out.run);
    assert!(
        out.results.is_empty(),
        "nothing is written for an unusable input"
    );

    let inspect = wd.run(&["inspect", "in.xlsx", "--sheet", "Cartera"]);
    assert_eq!(inspect.code, 0, "{inspect:?}");
    assert!(
        inspect.stdout.contains("sheets: \"Resumen\", \"Cartera\""),
        "{inspect:?}"
    );
    assert!(inspect.stdout.contains("sheet: \"Cartera\""), "{inspect:?}");
    assert!(inspect.stdout.contains("data rows: 1"), "{inspect:?}");
}

#[test]
fn xlsx_duplicate_headers_name_both_columns() {
    let wd = Workdir::new();
    workbook(
        &wd.path("in.xlsx"),
        &[(
            "Hoja1",
            vec![
                vec![
                    s("ID Registro"),
                    s("Nro Obligación"),
                    s("Saldo"),
                    s(" SALDO "),
                ],
                vec![s("R1"), s("OB1"), n(1.0), n(2.0)],
            ],
        )],
    );
    wd.write("m.toml", XLSX_MAPPING);
    let out = dry_run(&wd, "in.xlsx", "m.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(out.run.stderr.contains("in.xlsx"), "{:?}", out.run);
    assert!(
        out.run.stderr.contains("(column C) and") && out.run.stderr.contains("(column D)"),
        "{:?}",
        out.run
    );
}

#[test]
fn xlsx_rejects_read_back_with_the_same_mapping() {
    let wd = Workdir::new();
    workbook(
        &wd.path("in.xlsx"),
        &[(
            "Cartera",
            vec![
                header(),
                vec![s("R1"), s("OB1"), n(1.5), Some(X::D(2024, 1, 31)), n(3.0)],
                vec![s("R1"), s("OB2"), s("mil"), Some(X::D(2024, 1, 31)), n(3.0)],
                vec![s("R1"), None, n(7.0), s("31/02/2024"), n(3.0), n(99.0)],
            ],
        )],
    );
    wd.write(
        "m.toml",
        format!("[source]\nsheet = \"Cartera\"\n{XLSX_MAPPING}"),
    );
    let out = dry_run(&wd, "in.xlsx", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    let first_errors: Vec<String> = [3, 4].iter().map(|r| out.error(*r).to_string()).collect();
    assert_eq!(
        first_errors,
        [
            "column \"Saldo Total\": \"mil\" is not a number (decimal separator \".\")",
            "column \"Nro Obligación\" is empty; column \"Fecha Vencimiento\": \"31/02/2024\" is not a real date",
        ]
    );
    // A workbook's rejects are a UTF-8 CSV (with a BOM, for Excel).
    let bytes = std::fs::read(&out.rejects).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let table = read_csv_table(&out.rejects, b',', encoding_rs::UTF_8);
    assert_eq!(
        table[0],
        [
            "ID Registro",
            "Nro Obligación",
            "Saldo Total",
            "Fecha Vencimiento",
            "Días Mora",
            "Cédula",
            "Desembolso",
            "error"
        ]
    );
    assert_eq!(table.len(), 3);
    assert_eq!(table[1][..5], ["R1", "OB2", "mil", "31/01/2024", "3"]);
    assert_eq!(table[2][5], "99");
    assert_eq!(table[2][7], first_errors[1]);

    std::fs::copy(&out.rejects, wd.path("fixed.csv")).unwrap();
    let again = dry_run(&wd, "fixed.csv", "m.toml", &[]);
    assert_eq!(again.run.code, 1, "{:?}", again.run);
    assert_eq!(
        again.statuses(),
        statuses(&[(2, "invalid"), (3, "invalid")])
    );
    assert_eq!(again.error(2), first_errors[0]);
    assert_eq!(again.error(3), first_errors[1]);
}
