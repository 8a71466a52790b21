//! The operator's world: files as people really have them (ids typed into
//! Excel as numbers, a UTF-8 file under a mapping that says windows-1252,
//! text and web pages named `.xls`, a title above the header) and outputs
//! they open in Excel. Each check runs the real binary on real files and
//! reads what it wrote back as data; workbooks are read with calamine.

mod common;
mod dry_run_support;

use calamine::{open_workbook_auto, Data, Reader};
#[cfg(feature = "fake-crm")]
use common::FakeServer;
use common::{read_results, ResultRow, Run, Workdir};
use dry_run_support::{dry_run, form_of, pairs};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::path::Path;

/// A cell of a test workbook.
#[derive(Clone)]
enum C {
    S(&'static str),
    N(f64),
    /// A date cell, formatted as a date.
    D(u16, u8, u8),
    /// Nothing written.
    E,
}

/// Writes `sheets` (name, rows from row 1) to `path`.
fn workbook(path: &Path, sheets: &[(&str, Vec<Vec<C>>)]) {
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    C::S(s) => {
                        ws.write_string(r, c, *s).unwrap();
                    }
                    C::N(n) => {
                        ws.write_number(r, c, *n).unwrap();
                    }
                    C::D(y, m, d) => {
                        let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                        ws.write_datetime_with_format(r, c, &dt, &date).unwrap();
                    }
                    C::E => {}
                }
            }
        }
    }
    wb.save(path).unwrap();
}

/// Every sheet of a workbook as (name, rows of cells), read with calamine.
fn read_workbook(path: &Path) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut wb = open_workbook_auto(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    wb.sheet_names()
        .into_iter()
        .map(|name| {
            let range = wb.worksheet_range(&name).unwrap();
            // Rows as the sheet numbers them: the range starts at its first
            // used cell, so leading blank rows are put back.
            let (top, _) = range.start().unwrap_or((0, 0));
            let mut rows: Vec<Vec<Data>> = vec![Vec::new(); top as usize];
            rows.extend(range.rows().map(|r| r.to_vec()));
            (name, rows)
        })
        .collect()
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => panic!("expected a text cell, got {other:?}"),
    }
}

/// `import input --mapping m.toml --dry-run` and then `extra`.
fn dry(wd: &Workdir, input: &str, extra: &[&str]) -> Run {
    let mut args = vec!["import", input, "--mapping", "m.toml", "--dry-run"];
    args.extend_from_slice(extra);
    wd.run(&args)
}

fn statuses(v: &[(u64, &str)]) -> Vec<(u64, String)> {
    v.iter().map(|(r, s)| (*r, s.to_string())).collect()
}

const CARTERA: &str = r#"
[request]
operation = "cobranza"
[fields]
wolkvox_id = "ID Registro"
id = "Nro Obligación"
name = { column = "Producto", required = false }
total_balance = { column = "Saldo Total", type = "number" }
"#;

fn cartera_header() -> Vec<C> {
    vec![
        C::S("ID Registro"),
        C::S("Nro Obligación"),
        C::S("Producto"),
        C::S("Saldo Total"),
        C::S("Tarjeta"),
    ]
}

// ------------------------------------------------- 16 digits in number cells

#[test]
fn numbers_of_16_digits_where_every_digit_matters_make_the_row_invalid() {
    let wd = Workdir::new();
    let big = 4_540_410_858_241_234.0;
    workbook(
        &wd.path("in.xlsx"),
        &[(
            "Cartera",
            vec![
                cartera_header(),
                // The id as a number cell: already rounded by the spreadsheet.
                vec![C::S("R1"), C::N(big), C::S("Libre"), C::N(10.0)],
                // The collections record as a number cell.
                vec![C::N(big), C::S("OB3"), C::S("Libre"), C::N(10.0)],
                // A text field.
                vec![C::S("R1"), C::S("OB4"), C::N(big), C::N(10.0)],
                // A column sent in form.
                vec![C::S("R1"), C::S("OB5"), C::E, C::N(10.0), C::N(big)],
                // As text every digit is kept; an amount keeps today's
                // spelling; 15 digits are exact.
                vec![C::S("R1"), C::S("4540410858241234"), C::E, C::N(big)],
                vec![C::S("R1"), C::N(999_999_999_999_999.0), C::E, C::N(1.0)],
            ],
        )],
    );
    wd.write("m.toml", CARTERA);
    let out = dry_run(&wd, "in.xlsx", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    assert_eq!(
        out.statuses(),
        statuses(&[
            (2, "invalid"),
            (3, "invalid"),
            (4, "invalid"),
            (5, "invalid"),
            (6, "valid"),
            (7, "valid"),
        ])
    );
    for (row, column) in [
        (2, "Nro Obligación"),
        (3, "ID Registro"),
        (4, "Producto"),
        (5, "Tarjeta"),
    ] {
        let e = out.error(row);
        assert!(e.starts_with(&format!("column \"{column}\": ")), "{e}");
        assert!(e.contains("4540410858241230"), "{e}");
        assert!(e.contains("already rounded"), "{e}");
        assert!(
            e.contains("format the column as text and export the file again"),
            "{e}"
        );
        // One cell at fault, one explanation.
        assert_eq!(e.matches("column \"").count(), 1, "{e}");
    }
    assert!(out.error(5).contains("[form] exclude"), "{}", out.error(5));
    assert_eq!(out.body(6)["fields"]["id"], "4540410858241234");
    assert_eq!(out.body(6)["fields"]["total_balance"], "4540410858241230");
    assert_eq!(out.body(7)["fields"]["id"], "999999999999999");
    assert_eq!(out.payload_rows(), vec![6, 7]);

    // The rejects, as a CSV and as a workbook, read back with the same
    // mapping: the rounded digits never pass for the id they spell. They
    // are spelled as a spreadsheet shows such a number; as a record or an
    // obligation id that is refused, and elsewhere it is sent as the text
    // it plainly is, never as digits that look sound.
    let book = Path::new("in.rejects.xlsx");
    let run = wd.run(
        &[
            "import",
            "in.xlsx",
            "-m",
            "m.toml",
            "--dry-run",
            "-o",
            "again.csv",
            "--rejects",
        ]
        .iter()
        .copied()
        .chain([book.to_str().unwrap()])
        .collect::<Vec<_>>(),
    );
    assert_eq!(run.code, 1, "{run:?}");
    for rejects in ["in.rejects.csv", "in.rejects.xlsx"] {
        let back = dry_run(&wd, rejects, "m.toml", &[]);
        assert_eq!(back.run.code, 1, "{rejects}: {:?}", back.run);
        assert_eq!(
            back.statuses(),
            statuses(&[(2, "invalid"), (3, "invalid"), (4, "valid"), (5, "valid")]),
            "{rejects}"
        );
        for (row, column) in [(2, "Nro Obligación"), (3, "ID Registro")] {
            let e = back.error(row);
            assert!(
                e.starts_with(&format!("column \"{column}\": ")),
                "{rejects}: {e}"
            );
            assert!(e.contains("\"4.54041085824123E+15\""), "{rejects}: {e}");
            assert!(e.contains("scientific notation"), "{rejects}: {e}");
        }
        assert_eq!(back.body(4)["fields"]["name"], "4.54041085824123E+15");
        assert!(
            form_of(back.body(5)).contains(&("Tarjeta".into(), "4.54041085824123E+15".into())),
            "{rejects}: {}",
            back.body(5)
        );
        let payloads = wd.read("in.rejects.payloads.jsonl");
        assert!(!payloads.contains("4540410858241230"), "{payloads}");
    }
}

/// A CSV written by a spreadsheet that showed long ids as `4,54041E+15`
/// holds that text, not the id: such an id, collections record or lookup
/// key makes the row invalid, in either language; other columns and other
/// spellings are left alone.
#[test]
fn ids_in_scientific_notation_make_the_row_invalid() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        "ID Registro;Nro Obligación;Producto;Saldo Total\n\
         R1;4,54041E+15;Libre;10\n\
         1E+10;OB3;Libre;10\n\
         R1;4.54041E+15;Libre;10\n\
         R1;OB5;1E+10;1E+3\n\
         R1;12E5;Libre;10\n",
    );
    wd.write("m.toml", CARTERA);
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    assert_eq!(
        out.statuses(),
        statuses(&[
            (2, "invalid"),
            (3, "invalid"),
            (4, "invalid"),
            (5, "valid"),
            (6, "valid"),
        ])
    );
    for (row, column, value) in [
        (2, "Nro Obligación", "4,54041E+15"),
        (3, "ID Registro", "1E+10"),
        (4, "Nro Obligación", "4.54041E+15"),
    ] {
        assert_eq!(
            out.error(row),
            format!(
                "column \"{column}\": \"{value}\" is a number in scientific notation: \
                 the spreadsheet that wrote this file has already dropped its last digits; \
                 format the column as text and export the file again"
            )
        );
    }
    // A text field and an amount are not ids; a code is not a number.
    assert_eq!(out.body(5)["fields"]["name"], "1E+10");
    assert_eq!(out.body(5)["fields"]["total_balance"], "1000");
    assert_eq!(out.body(6)["fields"]["id"], "12E5");
    // The summary groups the two rows of one column as one problem.
    assert!(
        out.run.stderr.contains("2 rows, e.g. row 2: column \"Nro Obligación\": \"4,54041E+15\" is a number in scientific notation"),
        "{:?}",
        out.run
    );

    let es = dry(&wd, "in.csv", &["-o", "es.csv", "--lang", "es"]);
    assert_eq!(es.code, 1, "{es:?}");
    let rows = read_results(&wd.path("es.csv"));
    assert_eq!(
        rows[0]["error"],
        "columna \"Nro Obligación\": \"4,54041E+15\" es un número en notación científica: \
         la hoja de cálculo que escribió este archivo ya perdió sus últimas cifras; \
         dé formato de texto a la columna y exporte el archivo de nuevo"
    );
}

// ------------------------------------------------------ forced encodings

#[test]
fn a_utf8_file_under_a_forced_single_byte_encoding_is_refused() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        "Cédula;Nombre;Nro Obligación\n1020;María José Peña;OB1\n",
    );
    let mapping = |cedula: &str| {
        format!(
            "[source]\nencoding = \"windows-1252\"\n[request]\noperation = \"x\"\n\
             [fields]\nwolkvox_id = \"{cedula}\"\nid = \"Nro Obligación\"\nname = \"Nombre\"\n"
        )
    };
    // With the real column name, and with the garbled one an older message
    // suggested: both stop before reading a row.
    for name in ["Cédula", "CÃ©dula"] {
        wd.write("m.toml", mapping(name));
        let out = dry_run(&wd, "in.csv", "m.toml", &[]);
        assert_eq!(out.run.code, 2, "{name}: {:?}", out.run);
        assert!(
            out.run.stderr.contains("in.csv: the file is UTF-8")
                && out.run.stderr.contains("remove `encoding`"),
            "{name}: {:?}",
            out.run
        );
        assert!(!out.run.stderr.contains("did you mean"), "{:?}", out.run);
        assert!(out.results.is_empty() && out.payloads.is_empty());
    }

    // inspect says the same, and shows the columns as they really read.
    wd.write("m.toml", mapping("Cédula"));
    let inspect = wd.run(&["inspect", "in.csv", "--mapping", "m.toml"]);
    assert_eq!(inspect.code, 0, "{inspect:?}");
    assert!(
        inspect.stdout.contains("warning: the file is UTF-8")
            && inspect.stdout.contains("remove `encoding`"),
        "{inspect:?}"
    );
    assert!(inspect.stdout.contains("\"Cédula\""), "{inspect:?}");
    let columns = inspect.stdout.split("columns:").nth(1).unwrap();
    assert!(!columns.contains('Ã'), "{inspect:?}");

    // Removing the line, as told, gives a clean run with the names intact.
    wd.write(
        "m.toml",
        mapping("Cédula").replace("encoding = \"windows-1252\"\n", ""),
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.body(2)["fields"]["name"], "María José Peña");

    // A real windows-1252 file under the same setting still reads.
    let (bytes, _, _) = encoding_rs::WINDOWS_1252
        .encode("Cédula;Nombre;Nro Obligación\r\n1020;María José Peña;OB1\r\n");
    wd.write("ansi.csv", &bytes);
    wd.write("m.toml", mapping("Cédula"));
    let out = dry_run(&wd, "ansi.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.body(2)["fields"]["name"], "María José Peña");
}

/// Past the part of the file checked when it is opened, a UTF-8 row under
/// a forced windows-1252 is never sent garbled: it is invalid with the same
/// advice, the rows around it go through, and a real windows-1252 file with
/// the same late accents still reads.
#[test]
fn utf8_rows_far_into_a_file_under_a_forced_single_byte_encoding_are_invalid() {
    let wd = Workdir::new();
    let mut text = String::from("ID Registro;Nro Obligacion;Nombre;Saldo\n");
    let ascii_rows = 20_000;
    for i in 0..ascii_rows {
        text.push_str(&format!("R{i};{i};Ana;1\n"));
    }
    assert!(text.len() > 64 * 1024);
    text.push_str("R9;99998;María José Peña;1\n");
    text.push_str("R9;99999;\"Núñez; Lucía\";1\n");
    text.push_str("R9;100000;Ana;1\n");
    wd.write("late.csv", &text);
    let (ansi, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    wd.write("late1252.csv", &ansi);
    wd.write(
        "m.toml",
        "[source]\nencoding = \"windows-1252\"\n[request]\noperation = \"x\"\n\
         [fields]\nwolkvox_id = \"ID Registro\"\nid = \"Nro Obligacion\"\nname = \"Nombre\"\n",
    );

    let out = dry_run(&wd, "late.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 1, "{:?}", out.run);
    let first = ascii_rows + 2;
    let statuses = out.statuses();
    assert_eq!(statuses.len() as u64, ascii_rows + 3);
    assert_eq!(
        &statuses[statuses.len() - 3..],
        &[
            (first, "invalid".to_string()),
            (first + 1, "invalid".to_string()),
            (first + 2, "valid".to_string()),
        ]
    );
    assert_eq!(
        out.error(first),
        "the row is UTF-8, but the mapping's [source] sets encoding = \"windows-1252\", \
         which garbles its accents (\"María\" reads \"MarÃ\u{ad}a\"), so it is not sent: \
         the file is UTF-8; remove `encoding` from [source]"
    );
    let quoted = out.error(first + 1);
    assert!(quoted.contains("(\"Núñez\" reads \"NÃºÃ±ez\")"), "{quoted}");
    // Nothing garbled is sent, and the two rows are one problem.
    assert_eq!(out.payloads.len() as u64, ascii_rows + 1);
    assert!(!out.payloads.iter().any(|p| p.to_string().contains('Ã')));
    assert!(
        out.run
            .stderr
            .contains(&format!("2 rows, e.g. row {first}: the row is UTF-8")),
        "{:?}",
        out.run
    );

    // inspect warns about the first such row.
    let inspect = wd.run(&["inspect", "late.csv", "--mapping", "m.toml"]);
    assert_eq!(inspect.code, 0, "{inspect:?}");
    assert!(
        inspect
            .stdout
            .contains(&format!("warning: row {first}: the row is UTF-8")),
        "{inspect:?}"
    );

    // In Spanish, with the same advice.
    let es = dry(&wd, "late.csv", &["-o", "es.csv", "--lang", "es"]);
    assert_eq!(es.code, 1, "{es:?}");
    let rows = read_results(&wd.path("es.csv"));
    assert!(
        rows[first as usize - 2]["error"].starts_with("la fila es UTF-8")
            && rows[first as usize - 2]["error"].ends_with("quite `encoding` de [source]"),
        "{:?}",
        rows[first as usize - 2]
    );

    // The same rows written in windows-1252 read as they should.
    let out = dry_run(&wd, "late1252.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.body(first)["fields"]["name"], "María José Peña");
    assert_eq!(out.body(first + 1)["fields"]["name"], "Núñez; Lucía");
}

#[test]
fn a_garbled_header_is_never_suggested() {
    let wd = Workdir::new();
    // Saved twice through a wrong encoding: the file itself holds the
    // garbled names, in valid UTF-8.
    wd.write("in.csv", "CÃ©dula;Nro ObligaciÃ³n\n1020;OB1\n");
    wd.write(
        "m.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"Cédula\"\nid = \"Nro Obligación\"\n",
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(!out.run.stderr.contains("did you mean"), "{:?}", out.run);
    assert!(
        out.run.stderr.contains(
            "the header has \"CÃ©dula\", which is \"Cédula\" read in the wrong encoding: check [source] encoding"
        ),
        "{:?}",
        out.run
    );
}

// ------------------------------------------------ not workbooks, named .xls

#[test]
fn text_and_web_pages_named_as_workbooks_get_advice() {
    let wd = Workdir::new();
    let text = "Cédula;Nro Obligación\n1020;OB1\n";
    let (ansi, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    let mut utf16 = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    wd.write("m.toml", "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"Cédula\"\nid = \"Nro Obligación\"\n");
    for (name, bytes) in [
        ("utf8.xls", text.as_bytes().to_vec()),
        ("ansi.xls", ansi.into_owned()),
        ("bom.xls", bom),
        ("utf16.xls", utf16),
        ("text.xlsx", text.as_bytes().to_vec()),
    ] {
        wd.write(name, &bytes);
        for args in [
            vec!["import", name, "--mapping", "m.toml", "--dry-run"],
            vec!["inspect", name],
        ] {
            let run = wd.run(&args);
            assert_eq!(run.code, 2, "{name}: {run:?}");
            assert!(
                run.stderr.contains(&format!("{name}: the file is named ."))
                    && run.stderr.contains("holds plain text")
                    && run.stderr.contains("rename it to .csv"),
                "{name}: {run:?}"
            );
            assert!(
                !run.stderr.contains("Cfb") && !run.stderr.contains("OLE"),
                "{run:?}"
            );
        }
    }

    let html = "\u{feff}<html xmlns:x=\"urn:schemas-microsoft-com:office:excel\">\n<head><meta charset=\"utf-8\"></head>\n<body><table><tr><td>Cédula</td><td>Nro Obligación</td></tr><tr><td>1020</td><td>OB1</td></tr></table></body></html>\n";
    wd.write("page.xls", html);
    let run = wd.run(&["import", "page.xls", "--mapping", "m.toml", "--dry-run"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("page.xls: the file is named .xls but holds a web page (HTML)")
            && run.stderr.contains("save it as .xlsx, or export it as CSV"),
        "{run:?}"
    );
    let run = wd.run(&["inspect", "page.xls"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("web page (HTML)"), "{run:?}");

    // A real workbook under its name still reads.
    workbook(
        &wd.path("real.xlsx"),
        &[(
            "Hoja1",
            vec![
                vec![C::S("Cédula"), C::S("Nro Obligación")],
                vec![C::S("1020"), C::S("OB1")],
            ],
        )],
    );
    let out = dry_run(&wd, "real.xlsx", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
}

/// A workbook export that wrote nothing (0 bytes, or only blanks) is said
/// to be empty, in both languages, by the import, inspect and mapping init,
/// never in the reader's words about OLE signatures or zip directories.
#[test]
fn an_empty_workbook_file_is_said_to_be_empty() {
    let wd = Workdir::new();
    wd.write(
        "m.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n",
    );
    for (name, bytes) in [
        ("empty.xls", &b""[..]),
        ("empty.xlsx", b""),
        ("empty.xlsb", b""),
        ("empty.ods", b""),
        ("blank.xlsx", b"\r\n  \n"),
    ] {
        wd.write(name, bytes);
        for args in [
            vec!["import", name, "--mapping", "m.toml", "--dry-run"],
            vec!["inspect", name],
            vec!["mapping", "init", name],
        ] {
            let run = wd.run(&args);
            assert_eq!(run.code, 2, "{name}: {run:?}");
            assert!(
                run.stderr.contains(&format!(
                    "{name}: the file is empty: it holds no workbook; export or save it again"
                )),
                "{name}: {run:?}"
            );
            for calamine in ["Cfb", "OLE", "Zip", "EOCD"] {
                assert!(!run.stderr.contains(calamine), "{name}: {run:?}");
            }
        }
        let run = wd.run(&["--lang", "es", "inspect", name]);
        assert_eq!(run.code, 2, "{name}: {run:?}");
        assert!(
            run.stderr.contains(
                "el archivo está vacío: no contiene ningún libro; expórtelo o guárdelo de nuevo"
            ),
            "{name}: {run:?}"
        );
    }
}

// ------------------------------------------------ results and rejects as xlsx

/// The portfolio for the workbook outputs: ids that Excel would spoil as
/// numbers, kept as text; two bad rows.
fn id_portfolio(path: &Path) {
    workbook(
        path,
        &[(
            "Cartera",
            vec![
                cartera_header(),
                vec![
                    C::S("000123"),
                    C::S("4540410858241234"),
                    C::S("Libre"),
                    C::N(10.5),
                    C::S("0044"),
                ],
                vec![
                    C::S("000124"),
                    C::S("000123456"),
                    C::S("Libre"),
                    C::S("mil"),
                ],
                vec![C::S("000125"), C::S("OB3"), C::E, C::N(7.0)],
                vec![C::S("000125"), C::E, C::S("Auto"), C::N(1234.5), C::S("9")],
            ],
        )],
    );
}

#[test]
fn results_and_rejects_named_xlsx_are_workbooks_with_text_ids() {
    let wd = Workdir::new();
    id_portfolio(&wd.path("in.xlsx"));
    wd.write(
        "m.toml",
        format!("[source]\nsheet = \"Cartera\"\n{CARTERA}"),
    );
    let run = dry(
        &wd,
        "in.xlsx",
        &["--output", "r.xlsx", "--rejects", "rej.xlsx"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    // The same run with CSV results, to compare as data.
    let csv_run = dry(&wd, "in.xlsx", &["--output", "r.csv"]);
    assert_eq!(csv_run.code, 1, "{csv_run:?}");
    let expected: Vec<ResultRow> = read_results(&wd.path("r.csv"));

    let sheets = read_workbook(&wd.path("r.xlsx"));
    assert_eq!(sheets.len(), 1);
    let (name, rows) = &sheets[0];
    assert_eq!(name, "results");
    let header: Vec<String> = rows[0].iter().map(text).collect();
    assert_eq!(
        header,
        [
            "row",
            "status",
            "wolkvox_id",
            "obligation_id",
            "obligation_wolkvox_id",
            "attempts",
            "http_status",
            "api_code",
            "error"
        ]
    );
    assert_eq!(rows.len(), expected.len() + 1);
    for (cells, want) in rows[1..].iter().zip(&expected) {
        // Numbers where the contract has numbers, text everywhere else.
        assert_eq!(cells[0], Data::Float(want["row"].parse().unwrap()));
        assert_eq!(cells[5], Data::Float(want["attempts"].parse().unwrap()));
        for (i, col) in header.iter().enumerate() {
            if !["row", "attempts", "http_status"].contains(&col.as_str()) {
                let got = cells.get(i).map(text).unwrap_or_default();
                assert_eq!(got, want[col], "row {}, {col}", want["row"]);
            }
        }
    }
    // The ids Excel would spoil as numbers are text cells, every digit kept.
    assert_eq!(rows[1][2], Data::String("000123".into()));
    assert_eq!(rows[1][3], Data::String("4540410858241234".into()));
    assert_eq!(rows[2][3], Data::String("000123456".into()));
    // The CSV journal it was made from is gone.
    assert!(!wd.path("r.xlsx.journal.csv").exists());

    // Rejects: the input's sheet name and header on its header row, then
    // the original row number and the error; every cell as text.
    let sheets = read_workbook(&wd.path("rej.xlsx"));
    assert_eq!(sheets.len(), 1);
    let (name, rows) = &sheets[0];
    assert_eq!(name, "Cartera");
    let header: Vec<String> = rows[0].iter().map(text).collect();
    assert_eq!(
        header,
        [
            "ID Registro",
            "Nro Obligación",
            "Producto",
            "Saldo Total",
            "Tarjeta",
            "row",
            "error"
        ]
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[1][0], Data::String("000124".into()));
    assert_eq!(rows[1][1], Data::String("000123456".into()));
    assert_eq!(rows[1][3], Data::String("mil".into()));
    assert_eq!(rows[1][5], Data::Float(3.0));
    assert_eq!(text(&rows[1][6]), expected[1]["error"]);
    assert_eq!(rows[2][3], Data::String("1234.5".into()));
    assert_eq!(rows[2][4], Data::String("9".into()));
    assert_eq!(rows[2][5], Data::Float(5.0));

    // Read back with the same mapping, the rejects fail for the same
    // reasons, and the row and error columns never reach form.
    let again = dry_run(&wd, "rej.xlsx", "m.toml", &[]);
    assert_eq!(again.run.code, 1, "{:?}", again.run);
    assert_eq!(
        again.statuses(),
        statuses(&[(2, "invalid"), (3, "invalid")])
    );
    assert_eq!(again.error(2), expected[1]["error"]);
    assert_eq!(again.error(3), expected[3]["error"]);
    // Once fixed, a row is sent as the original would have been.
    let mut fixed = Workbook::new();
    let ws = fixed.add_worksheet();
    ws.set_name("Cartera").unwrap();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, h).unwrap();
    }
    for (c, v) in ["000124", "000123456", "Libre", "1000", "", "3", "old error"]
        .iter()
        .enumerate()
    {
        ws.write_string(1, c as u16, *v).unwrap();
    }
    fixed.save(wd.path("fixed.xlsx")).unwrap();
    let sent = dry_run(&wd, "fixed.xlsx", "m.toml", &[]);
    assert_eq!(sent.run.code, 0, "{:?}", sent.run);
    assert_eq!(sent.body(2)["wolkvox_id"], "000124");
    assert_eq!(sent.body(2)["fields"]["id"], "000123456");
    assert!(form_of(sent.body(2)).is_empty(), "{}", sent.body(2));
}

#[test]
fn rejects_of_a_title_block_workbook_keep_the_header_row() {
    let wd = Workdir::new();
    workbook(
        &wd.path("in.xlsx"),
        &[(
            "Cartera",
            vec![
                vec![C::S("Banco Ejemplo S.A.")],
                vec![],
                cartera_header(),
                vec![C::S("R1"), C::S("OB1"), C::E, C::S("x")],
            ],
        )],
    );
    wd.write("m.toml", format!("[source]\nheader_row = 3\n{CARTERA}"));
    let run = dry(
        &wd,
        "in.xlsx",
        &["--output", "r.csv", "--rejects", "rej.xlsx"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let error = read_results(&wd.path("r.csv"))[0]["error"].clone();
    let (_, rows) = &read_workbook(&wd.path("rej.xlsx"))[0];
    assert!(
        rows[..2]
            .iter()
            .all(|r| r.iter().all(|c| *c == Data::Empty)),
        "{rows:?}"
    );
    assert_eq!(rows[2][0], Data::String("ID Registro".into()));
    assert_eq!(rows[3][5], Data::Float(4.0));
    let again = dry_run(&wd, "rej.xlsx", "m.toml", &[]);
    assert_eq!(again.statuses(), statuses(&[(4, "invalid")]));
    assert_eq!(again.error(4), error);
}

#[test]
fn output_names_decide_the_kind_and_never_get_the_wrong_bytes() {
    let wd = Workdir::new();
    id_portfolio(&wd.path("in.xlsx"));
    wd.write(
        "in.csv",
        "ID Registro,Nro Obligación,Producto,Saldo Total\nR1,OB1,,mil\n",
    );
    wd.write("m.toml", CARTERA);

    // Workbook names this tool cannot write are refused, before anything.
    for (option, name) in [
        ("--output", "r.xls"),
        ("--output", "r.ods"),
        ("--rejects", "rej.xls"),
    ] {
        let run = dry(&wd, "in.xlsx", &[option, name]);
        assert_eq!(run.code, 2, "{option} {name}: {run:?}");
        assert!(
            run.stderr.contains(&format!("{option} cannot write a .")),
            "{run:?}"
        );
        assert!(!wd.path(name).exists(), "{name} was written");
    }
    // JSON Lines never go under a workbook name.
    let run = dry(&wd, "in.xlsx", &["--payloads", "p.xlsx"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("--payloads writes JSON Lines"),
        "{run:?}"
    );
    assert!(!wd.path("p.xlsx").exists());

    // A rejects name without an extension takes the input's kind.
    let run = dry(&wd, "in.xlsx", &["--rejects", "rech"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(read_workbook(&wd.path("rech.xlsx"))[0].1.len(), 3);
    assert!(!wd.path("rech").exists());
    let run = dry(&wd, "in.csv", &["--rejects", "rech"]);
    assert_eq!(run.code, 1, "{run:?}");
    let rejects = std::fs::read_to_string(wd.path("rech.csv")).unwrap();
    assert!(
        rejects.starts_with("ID Registro,Nro Obligación,Producto,Saldo Total,error\r\n"),
        "{rejects}"
    );

    // A CSV results name stays the contract's CSV.
    let run = dry(&wd, "in.xlsx", &["--output", "r.csv"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(read_results(&wd.path("r.csv")).len(), 4);
}

#[test]
#[cfg(feature = "fake-crm")]
fn a_real_run_writes_xlsx_results_with_the_crms_ids() {
    let wd = Workdir::new();
    id_portfolio(&wd.path("in.xlsx"));
    wd.write("m.toml", CARTERA);
    let fake = FakeServer::start(wolkvox_import::fake_crm::FakeCrmOptions {
        token: "t0ken".into(),
        ..Default::default()
    });
    let base = fake.base_url();
    let mut cmd = wd.command(&[
        "import",
        "in.xlsx",
        "--mapping",
        "m.toml",
        "--server",
        &base,
        "--output",
        "r.xlsx",
        "--rejects",
        "rej.xlsx",
    ]);
    cmd.env("WOLKVOX_TOKEN", "t0ken");
    let run = common::Run::from(cmd.output().unwrap());
    assert_eq!(run.code, 1, "{run:?}");
    let (_, rows) = &read_workbook(&wd.path("r.xlsx"))[0];
    let status: Vec<String> = rows[1..].iter().map(|r| text(&r[1])).collect();
    assert_eq!(status, ["created", "invalid", "created", "invalid"]);
    for r in [&rows[1], &rows[3]] {
        assert!(!text(&r[4]).is_empty(), "obligation_wolkvox_id: {r:?}");
        assert_eq!(r[6], Data::Float(200.0));
    }
    assert_eq!(rows[1][3], Data::String("4540410858241234".into()));
    let (_, rejected) = &read_workbook(&wd.path("rej.xlsx"))[0];
    let numbers: Vec<Data> = rejected[1..].iter().map(|r| r[5].clone()).collect();
    assert_eq!(numbers, [Data::Float(3.0), Data::Float(5.0)]);
    assert_eq!(fake.stats().inserts, 2);
}

// ------------------------------------------------------- title blocks

/// A bank's workbook: a title, a cut-off date, a blank row, then the header
/// on row 4.
fn title_block_workbook(path: &Path) {
    workbook(
        path,
        &[(
            "Cartera",
            vec![
                vec![C::S("BANCO EJEMPLO S.A. - Cartera castigada")],
                vec![C::S("Fecha de corte:"), C::D(2024, 6, 30)],
                vec![],
                vec![
                    C::S("ID Registro"),
                    C::S("Nro Obligación"),
                    C::S("Saldo Total"),
                    C::S("Fecha Vencimiento"),
                    C::S("Días Mora"),
                    C::S("Ciudad"),
                ],
                vec![
                    C::S("R1"),
                    C::N(900123.0),
                    C::N(10000.0),
                    C::D(2024, 6, 30),
                    C::N(90.0),
                    C::S("Cali"),
                ],
                vec![
                    C::S("R2"),
                    C::N(900124.0),
                    C::N(2500.5),
                    C::D(2024, 7, 1),
                    C::N(0.0),
                    C::S("Pasto"),
                ],
            ],
        )],
    );
}

#[test]
fn a_title_block_workbook_goes_from_inspect_to_a_clean_dry_run() {
    let wd = Workdir::new();
    title_block_workbook(&wd.path("cartera.xlsx"));

    let inspect = wd.run(&["inspect", "cartera.xlsx"]);
    assert_eq!(inspect.code, 0, "{inspect:?}");
    assert!(
        inspect.stdout.contains("header row: 4 (below a title"),
        "{inspect:?}"
    );
    assert!(inspect.stdout.contains("data rows: 2"), "{inspect:?}");
    assert!(
        inspect.stdout.contains("\"Nro Obligación\"  integer"),
        "{inspect:?}"
    );

    let init = wd.run(&["mapping", "init", "cartera.xlsx"]);
    assert_eq!(init.code, 0, "{init:?}");
    assert!(init.stdout.contains("header_row = 4\n"), "{}", init.stdout);
    assert!(
        init.stdout
            .contains("#   wolkvox-import import cartera.xlsx --mapping cartera.toml --dry-run\n"),
        "{}",
        init.stdout
    );
    wd.write("cartera.toml", &init.stdout);

    // No edit at all: the placeholder operation is only a warning here.
    let out = dry_run(&wd, "cartera.xlsx", "cartera.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert!(out.run.stderr.contains("CHANGE_ME"), "{:?}", out.run);
    assert_eq!(out.statuses(), statuses(&[(5, "valid"), (6, "valid")]));
    assert_eq!(out.body(5)["wolkvox_id"], "R1");
    assert_eq!(out.body(5)["fields"]["id"], "900123");
    assert_eq!(out.body(6)["fields"]["total_balance"], "2500.5");
    assert_eq!(out.body(5)["fields"]["expiring_date"], "30-06-2024");
    assert_eq!(form_of(out.body(6)), pairs(&[("Ciudad", "Pasto")]));
    // Sending still refuses the placeholder.
    wd.write("token", "t0ken\n");
    let run = wd.run(&[
        "import",
        "cartera.xlsx",
        "--mapping",
        "cartera.toml",
        "--server",
        "http://127.0.0.1:9/",
        "--token-file",
        "token",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("CHANGE_ME"), "{run:?}");
    // Retyped in lower case with spaces around it, still the placeholder.
    let retyped = wd
        .read("cartera.toml")
        .replace("\"CHANGE_ME\"", "\" change_me \"");
    assert!(retyped.contains("\" change_me \""), "{retyped}");
    wd.write("retyped.toml", &retyped);
    let run = wd.run(&[
        "import",
        "cartera.xlsx",
        "--mapping",
        "retyped.toml",
        "--server",
        "http://127.0.0.1:9/",
        "--token-file",
        "token",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("CHANGE_ME"), "{run:?}");

    // The placeholder given with --operation over a finished mapping: the
    // flag is named, not the mapping.
    wd.write(
        "finished.toml",
        wd.read("cartera.toml")
            .replace("\"CHANGE_ME\"", "\"cobranza\""),
    );
    let flag = "--operation \"CHANGE_ME\" is the placeholder that mapping init writes";
    let run = wd.run(&[
        "import",
        "cartera.xlsx",
        "--mapping",
        "finished.toml",
        "--operation",
        "CHANGE_ME",
        "--server",
        "http://127.0.0.1:9/",
        "--token-file",
        "token",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains(flag), "{run:?}");
    assert!(!run.stderr.contains("finished.toml"), "{run:?}");
    let out = dry_run(
        &wd,
        "cartera.xlsx",
        "finished.toml",
        &["--operation", "CHANGE_ME"],
    );
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert!(out.run.stderr.contains(flag), "{:?}", out.run);
    assert!(!out.run.stderr.contains("still"), "{:?}", out.run);
}

/// A mapping that reads a title block's first row as the header gets one
/// message pointing at header_row, not a "not found" per field each listing
/// the title, in either language.
#[test]
fn a_title_read_as_the_header_is_explained_once() {
    let wd = Workdir::new();
    title_block_workbook(&wd.path("cartera.xlsx"));
    let init = wd.run(&["mapping", "init", "cartera.xlsx"]);
    assert_eq!(init.code, 0, "{init:?}");
    wd.write(
        "t1.toml",
        init.stdout.replace("header_row = 4\n", "header_row = 1\n"),
    );
    let out = dry_run(&wd, "cartera.xlsx", "t1.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    let err: Vec<&str> = out
        .run
        .stderr
        .lines()
        .filter(|l| !l.contains("CHANGE_ME"))
        .collect();
    assert_eq!(
        err,
        [
            "error: cartera.xlsx: the mapping t1.toml does not fit the file's header (row 1):",
            "the header (row 1) has a single column, \"BANCO EJEMPLO S.A. - Cartera castigada\", \
             which looks like a title: if the column names are on a lower row, set header_row to \
             that row in [source] (inspect --header-row N shows the columns of row N)",
        ],
        "{:?}",
        out.run
    );
    let es = wd.run(&[
        "--lang",
        "es",
        "import",
        "cartera.xlsx",
        "--mapping",
        "t1.toml",
        "--dry-run",
    ]);
    assert_eq!(es.code, 2, "{es:?}");
    assert!(es.stderr.contains("que parece un título"), "{es:?}");
    assert!(
        !es.stderr.contains("no se encontró") && !es.stderr.contains("not found"),
        "{es:?}"
    );
}

// ------------------------------------------------ two columns of one name

/// A bank's workbook with two "Teléfono" columns: inspect shows it and
/// marks them, mapping init leaves them out with a comment, and that
/// mapping runs. A mapping that names such a column, or would send both in
/// form, is refused naming both; a lookup file may have them too, as long
/// as its key and value are not among them.
#[test]
fn columns_of_one_name_are_shown_and_left_out_rather_than_refused() {
    let wd = Workdir::new();
    workbook(
        &wd.path("dup.xlsx"),
        &[(
            "Cartera",
            vec![
                vec![
                    C::S("ID Registro"),
                    C::S("Nro Obligación"),
                    C::S("Teléfono"),
                    C::S("Saldo Total"),
                    C::S("teléfono "),
                    C::S("Ciudad"),
                ],
                vec![
                    C::S("R1"),
                    C::S("OB1"),
                    C::S("3001112233"),
                    C::N(10.0),
                    C::S("6011234567"),
                    C::S("Cali"),
                ],
            ],
        )],
    );

    let inspect = wd.run(&["inspect", "dup.xlsx"]);
    assert_eq!(inspect.code, 0, "{inspect:?}");
    assert!(
        inspect.stdout.contains(
            "warning: 2 columns have the same name, \"Teléfono\" (column C, column E): \
             a mapping cannot name them, nor send them both in form; rename one of them in the file, \
             or leave them out with [form] exclude = [\"Teléfono\"]"
        ),
        "{inspect:?}"
    );
    assert!(
        inspect
            .stdout
            .contains("\"Teléfono\"  integer  e.g. \"3001112233\"  (same name as column E)")
            && inspect
                .stdout
                .contains("\"teléfono \"  integer  e.g. \"6011234567\"  (same name as column C)"),
        "{inspect:?}"
    );
    let es = wd.run(&["--lang", "es", "inspect", "dup.xlsx"]);
    assert_eq!(es.code, 0, "{es:?}");
    assert!(
        es.stdout
            .contains("advertencia: 2 columnas tienen el mismo nombre, \"Teléfono\"")
            && es.stdout.contains("(mismo nombre que columna E)"),
        "{es:?}"
    );

    let init = wd.run(&["mapping", "init", "dup.xlsx", "--operation", "cobranza"]);
    assert_eq!(init.code, 0, "{init:?}");
    let starter = &init.stdout;
    assert!(
        starter.contains(
            "# 2 columns are named \"Teléfono\" (column C, column E): a mapping cannot tell them apart, \
             so they are left out of form.\n\
             # To send such a column, rename it in the file and take its name out of exclude.\n\
             exclude = [\"Teléfono\"]\n"
        ),
        "{starter}"
    );
    assert!(
        init.stderr
            .contains("dup.xlsx: 2 columns have the same name, \"Teléfono\" (column C, column E)"),
        "{init:?}"
    );
    // The starter runs as written: the two columns are not sent.
    wd.write("dup.toml", starter);
    let out = dry_run(&wd, "dup.xlsx", "dup.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.body(2)["wolkvox_id"], "R1");
    assert_eq!(form_of(out.body(2)), pairs(&[("Ciudad", "Cali")]));

    // Naming one of them is ambiguous; sending both is refused.
    let base = "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"ID Registro\"\nid = \"Nro Obligación\"\n";
    wd.write(
        "named.toml",
        format!("{base}name = \"TELÉFONO\"\n[form]\nexclude = [\"Teléfono\"]\n"),
    );
    let out = dry_run(&wd, "dup.xlsx", "named.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(
        out.run.stderr.contains(
            "[fields] name: column \"TELÉFONO\" is ambiguous: two columns have that name, \
             column C and column E (header row 1); rename one of them in the file"
        ),
        "{:?}",
        out.run
    );
    wd.write("form.toml", base);
    let out = dry_run(&wd, "dup.xlsx", "form.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(
        out.run.stderr.contains(
            "two columns have the same name: \"Teléfono\" (column C) and \"teléfono \" (column E), \
             header row 1, and both would be sent in form under it"
        ) && out.run.stderr.contains("[form] exclude = [\"Teléfono\"]"),
        "{:?}",
        out.run
    );
    assert!(out.results.is_empty());

    // A lookup file with two columns of one name reads unless they are its
    // key or value.
    wd.write("in.csv", "Cédula;Nro Obligación\n1020;OB1\n");
    wd.write(
        "exp.csv",
        "Identificación,Nombre,wolkvox_id,nombre\n1020,Ana,61fa3,Ana\n",
    );
    let lookup = |value: &str| {
        format!(
            "[request]\noperation = \"x\"\n[lookups.exp]\nfile = \"exp.csv\"\n\
             key = \"Identificación\"\nvalue = \"{value}\"\n\
             [fields]\nwolkvox_id = {{ column = \"Cédula\", lookup = \"exp\" }}\nid = \"Nro Obligación\"\n"
        )
    };
    wd.write("lk.toml", lookup("wolkvox_id"));
    let out = dry_run(&wd, "in.csv", "lk.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(out.body(2)["wolkvox_id"], "61fa3");
    wd.write("lk.toml", lookup("Nombre"));
    let out = dry_run(&wd, "in.csv", "lk.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(
        out.run.stderr.contains(
            "column \"Nombre\" is ambiguous: two columns have that name, column 2 and column 4"
        ),
        "{:?}",
        out.run
    );
}

#[test]
fn inspect_and_init_take_a_sheet_and_a_header_row() {
    let wd = Workdir::new();
    let path = wd.path("libro.xlsx");
    // The portfolio is the second sheet, after a summary.
    workbook(
        &path,
        &[
            ("Resumen", vec![vec![C::S("Total"), C::N(2.0)]]),
            (
                "Cartera",
                vec![
                    vec![C::S("Reporte")],
                    vec![C::S("ID Registro"), C::S("Nro Obligación")],
                    vec![C::S("R1"), C::S("OB1")],
                ],
            ),
        ],
    );
    let run = wd.run(&["inspect", "libro.xlsx", "--sheet", "Cartera"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("sheet: \"Cartera\"") && run.stdout.contains("header row: 2"),
        "{run:?}"
    );
    // --header-row is obeyed, even on the title.
    let run = wd.run(&[
        "inspect",
        "libro.xlsx",
        "--sheet",
        "Cartera",
        "--header-row",
        "1",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("header row: 1\n") && run.stdout.contains("1. \"Reporte\""),
        "{run:?}"
    );
    let run = wd.run(&[
        "mapping",
        "init",
        "libro.xlsx",
        "--sheet",
        "Cartera",
        "--header-row",
        "2",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("sheet = \"Cartera\"\nheader_row = 2\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("wolkvox_id = \"ID Registro\"\nid = \"Nro Obligación\"\n"),
        "{}",
        run.stdout
    );
    let run = wd.run(&["inspect", "libro.xlsx", "--header-row", "0"]);
    assert_eq!(run.code, 2, "{run:?}");

    // inspect --mapping needs only [source]; flags override it.
    wd.write(
        "src.toml",
        "[source]\nsheet = \"Cartera\"\nheader_row = 1\n",
    );
    let run = wd.run(&["inspect", "libro.xlsx", "--mapping", "src.toml"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("header row: 1\n"), "{run:?}");
    let run = wd.run(&[
        "inspect",
        "libro.xlsx",
        "--mapping",
        "src.toml",
        "--header-row",
        "2",
    ]);
    assert!(run.stdout.contains("header row: 2\n"), "{run:?}");
    // Its [source] is still checked.
    wd.write("bad.toml", "[source]\nheadr_row = 2\n");
    let run = wd.run(&["inspect", "libro.xlsx", "--mapping", "bad.toml"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("did you mean `header_row`"), "{run:?}");
}

// ------------------------------------------------------- default names

#[test]
fn default_results_of_inputs_with_the_same_stem_do_not_collide() {
    let wd = Workdir::new();
    wd.write(
        "x.csv",
        "ID Registro,Nro Obligación,Producto,Saldo Total\nR1,OB1,,1\nR2,OB2,,2\n",
    );
    workbook(
        &wd.path("x.xlsx"),
        &[(
            "Hoja1",
            vec![
                cartera_header(),
                vec![C::S("R9"), C::S("OB9"), C::E, C::N(1.0)],
            ],
        )],
    );
    wd.write("m.toml", CARTERA);
    for input in ["x.csv", "x.xlsx"] {
        let run = wd.run(&["import", input, "--mapping", "m.toml", "--dry-run"]);
        assert_eq!(run.code, 0, "{input}: {run:?}");
        assert!(
            run.stderr.contains(&format!("{input}.results.csv")),
            "{run:?}"
        );
    }
    let from_csv = read_results(&wd.path("x.csv.results.csv"));
    let from_xlsx = read_results(&wd.path("x.xlsx.results.csv"));
    assert_eq!(from_csv.len(), 2);
    assert_eq!(from_xlsx.len(), 1);
    assert_eq!(from_xlsx[0]["obligation_id"], "OB9");
    assert!(!wd.path("x.results.csv").exists());
}

// ------------------------------------------------------- smaller things

#[test]
fn a_wrong_delimiter_is_named_once() {
    let wd = Workdir::new();
    wd.write("in.csv", "ID Registro;Nro Obligación;Producto\nR1;OB1;x\n");
    wd.write(
        "m.toml",
        format!("[source]\ndelimiter = \",\"\n{CARTERA}")
            .replace("total_balance", "# total_balance"),
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 2, "{:?}", out.run);
    assert!(
        out.run.stderr.contains("the header (row 1) has one column")
            && out.run.stderr.contains("the file looks \";\"-separated"),
        "{:?}",
        out.run
    );
    assert!(!out.run.stderr.contains("did you mean"), "{:?}", out.run);
}

#[test]
fn a_mapping_that_is_not_utf8_says_how_to_save_it() {
    let wd = Workdir::new();
    wd.write("in.csv", "a,b\nR1,OB1\n");
    let (ansi, _, _) = encoding_rs::WINDOWS_1252.encode(
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n# Días de mora\n",
    );
    wd.write("m.toml", &ansi);
    for args in [
        vec!["import", "in.csv", "--mapping", "m.toml", "--dry-run"],
        vec!["inspect", "in.csv", "--mapping", "m.toml"],
    ] {
        let run = wd.run(&args);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr.contains("m.toml: line 6")
                && run.stderr.contains("save the mapping as UTF-8"),
            "{run:?}"
        );
    }
}

#[test]
fn mapping_init_lists_what_it_left_for_form_and_leaves_no_dangling_comment() {
    let wd = Workdir::new();
    wd.write(
        "Cartera junio.csv",
        "ID Registro;Nro Obligación;Tel Celular;Observaciones internas\nR1;OB1;300;x\n",
    );
    let run = wd.run(&["mapping", "init", "Cartera junio.csv"]);
    assert_eq!(run.code, 0, "{run:?}");
    let text = run.stdout;
    assert!(
        text.contains("#   wolkvox-import import 'Cartera junio.csv' --mapping 'Cartera junio.toml' --dry-run\n"),
        "{text}"
    );
    // The unmatched columns, as a list ready to copy into exclude.
    let listed: String = text
        .lines()
        .skip_while(|l| !l.starts_with("# Copy into exclude"))
        .skip(1)
        .take_while(|l| l.starts_with("#   "))
        .map(|l| &l[3..])
        .collect();
    let list: toml::Value = toml::from_str(&format!("x = [{listed}]")).unwrap();
    assert_eq!(
        list["x"].as_array().unwrap(),
        &vec![
            toml::Value::from("Tel Celular"),
            toml::Value::from("Observaciones internas")
        ]
    );
    // A comment that introduces something is followed by it.
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with('#') && l.ends_with(':') {
            let next = lines.get(i + 1).copied().unwrap_or("");
            assert!(
                !next.trim().is_empty() && next != "#",
                "dangling: {l:?}\n{text}"
            );
        }
    }
    // The starter reads back: exclude what it listed, and it validates.
    wd.write(
        "m.toml",
        text.replace("exclude = []", "exclude = [\"Observaciones internas\"]")
            .replace("CHANGE_ME", "cobranza"),
    );
    let out = dry_run(&wd, "Cartera junio.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert_eq!(form_of(out.body(2)), pairs(&[("Tel Celular", "300")]));

    // A file whose every column is a field: form has nothing to list.
    wd.write("all.csv", "ID Registro;Nro Obligación\nR1;OB1\n");
    let run = wd.run(&["mapping", "init", "all.csv"]);
    assert!(
        run.stdout
            .contains("# Every column matched a field: form stays empty.\nextra_columns"),
        "{}",
        run.stdout
    );
}

#[test]
fn same_form_names_and_values_under_unnamed_columns_are_warned_about() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        "a,b,Tel 1,Tel 2,,Ciudad\nR1,OB1,300,301,nota,Cali\n",
    );
    wd.write(
        "m.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n\
         [form]\nrename = { \"Tel 1\" = \"Teléfono\", \"Tel 2\" = \"Teléfono\" }\n",
    );
    let out = dry_run(&wd, "in.csv", "m.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert!(
        out.run
            .stderr
            .contains("columns \"Tel 1\" and \"Tel 2\" are both sent in form as \"Teléfono\""),
        "{:?}",
        out.run
    );
    assert!(
        out.run
            .stderr
            .contains("row 2, column 5: a value under a column with no name"),
        "{:?}",
        out.run
    );
    assert_eq!(
        form_of(out.body(2)),
        pairs(&[("Teléfono", "300"), ("Teléfono", "301"), ("Ciudad", "Cali")])
    );

    // In a workbook, a value right of the last named column too.
    workbook(
        &wd.path("in.xlsx"),
        &[(
            "Hoja1",
            vec![
                vec![C::S("a"), C::S("b")],
                vec![C::S("R1"), C::S("OB1")],
                vec![C::S("R2"), C::S("OB2"), C::E, C::S("suelto")],
            ],
        )],
    );
    wd.write(
        "n.toml",
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n",
    );
    let out = dry_run(&wd, "in.xlsx", "n.toml", &[]);
    assert_eq!(out.run.code, 0, "{:?}", out.run);
    assert!(
        out.run
            .stderr
            .contains("row 3, column D: a value under a column with no name in the header (row 1)"),
        "{:?}",
        out.run
    );
}

#[test]
#[cfg(feature = "fake-crm")]
fn fake_crm_on_a_reachable_address_warns_about_its_known_token() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let wd = Workdir::new();
    for (args, warned) in [
        (vec!["fake-crm", "--listen", "0.0.0.0:0"], true),
        (
            vec!["fake-crm", "--listen", "0.0.0.0:0", "--token", "s3cret"],
            false,
        ),
        (vec!["fake-crm", "--listen", "127.0.0.1:0"], false),
    ] {
        let mut child = wd
            .command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut seen = String::new();
        for line in BufReader::new(child.stderr.take().unwrap()).lines() {
            let line = line.unwrap();
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("fake CRM ready") {
                break;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(seen.contains("fake CRM ready"), "{seen}");
        assert_eq!(
            seen.contains("other machines can reach") && seen.contains("\"fake-token\""),
            warned,
            "{args:?}: {seen}"
        );
        assert!(!seen.contains("s3cret"), "{seen}");
    }
}
