//! Hostile input: files and mappings made by many hands and many programs.
//! Each case must end with a clear message (what, where, what to do) and the
//! documented exit code, without a panic, a hang or runaway memory.

mod common;

use common::{read_jsonl, read_results, Run, Workdir};
use rust_xlsxwriter::Workbook;
use std::time::{Duration, Instant};

const MAPPING: &str = "[request]\noperation = \"cobranza\"\n[fields]\nwolkvox_id = \"registro\"\nid = \"obligacion\"\n";

/// A finished run of the binary with its peak memory.
struct Bounded {
    run: Run,
    peak_mib: u64,
}

/// Runs the binary, killing it after `limit`; polls its peak resident
/// memory (VmHWM) while it runs.
fn run_bounded(wd: &Workdir, args: &[&str], limit: Duration) -> Bounded {
    let mut child = wd
        .command(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            if let Some(line) = s.lines().find(|l| l.starts_with("VmHWM:")) {
                let kib: u64 = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                peak_kib = peak_kib.max(kib);
            }
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("{args:?} hung for more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let run = Run::from(child.wait_with_output().unwrap());
    assert!(
        !run.stderr.contains("panicked"),
        "{args:?} panicked: {run:?}"
    );
    Bounded {
        run,
        peak_mib: peak_kib / 1024,
    }
}

fn dry_run(wd: &Workdir, input: &str) -> Bounded {
    wd.write("m.toml", MAPPING);
    run_bounded(
        wd,
        &[
            "import",
            input,
            "--mapping",
            "m.toml",
            "--dry-run",
            "--payloads",
            "p.jsonl",
            "--output",
            "r.csv",
        ],
        Duration::from_secs(30),
    )
}

fn expect(b: &Bounded, code: i32, phrases: &[&str]) {
    assert_eq!(b.run.code, code, "{:?}", b.run);
    for p in phrases {
        assert!(b.run.stderr.contains(p), "stderr lacks {p:?}: {:?}", b.run);
    }
}

/// An empty nightly export is no error but a warning, as a header with no
/// rows is: no rows, a results file with only its header, and a word that
/// the mapping's columns could not be checked.
#[test]
fn an_empty_file_has_no_rows_and_says_so() {
    let wd = Workdir::new();
    for (name, bytes) in [
        ("vacio.csv", &b""[..]),
        ("bom.csv", b"\xEF\xBB\xBF"),
        ("blancos.csv", b"\r\n\n  \n;;;\n"),
    ] {
        wd.write(name, bytes);
        let b = dry_run(&wd, name);
        expect(
            &b,
            0,
            &[
                &format!("{name} is empty: it has no header row, so the mapping's columns could not be checked"),
                "--expect-rows",
                "the file is empty: no header row, no data rows",
            ],
        );
        assert!(!b.run.stderr.contains("has a header"), "{:?}", b.run);
        assert_eq!(
            std::fs::read_to_string(wd.path("r.csv")).unwrap(),
            "row,status,wolkvox_id,obligation_id,obligation_wolkvox_id,attempts,http_status,api_code,error\n"
        );
        assert_eq!(std::fs::read_to_string(wd.path("p.jsonl")).unwrap(), "");
    }
    // A mapping that names the header row reads an empty file the same way.
    wd.write("h.toml", format!("[source]\nheader_row = 1\n{MAPPING}"));
    let run = wd.run(&["import", "blancos.csv", "--mapping", "h.toml", "--dry-run"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("blancos.csv is empty"), "{run:?}");
    // Last night's rejects at the same name are not this run's: they go,
    // and the summary lists no rejects file.
    wd.write("one.csv", "registro;obligacion\n;OB1\n");
    let args = |input: &'static str| {
        [
            "import",
            input,
            "--mapping",
            "h.toml",
            "--dry-run",
            "-o",
            "r.csv",
            "--rejects",
            "rej.csv",
        ]
    };
    let run = wd.run(&args("one.csv"));
    assert_eq!(run.code, 1, "{run:?}");
    assert!(wd.read("rej.csv").contains("OB1"), "{run:?}");
    let run = wd.run(&args("vacio.csv"));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!wd.path("rej.csv").exists(), "{run:?}");
    assert!(!run.stderr.contains("rej.csv"), "{run:?}");
    // inspect has nothing to show.
    let run = wd.run(&["inspect", "vacio.csv"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("vacio.csv: the file is empty: there is no header row"),
        "{run:?}"
    );
}

#[test]
fn a_header_only_file_has_no_rows_and_says_so() {
    let wd = Workdir::new();
    wd.write("solo.csv", "registro;obligacion\n");
    let b = dry_run(&wd, "solo.csv");
    expect(&b, 0, &["no data rows"]);
    assert!(read_results(&wd.path("r.csv")).is_empty());
}

#[test]
fn random_bytes_named_csv_end_cleanly() {
    let wd = Workdir::new();
    // A deterministic scramble of every byte value.
    let bytes: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    wd.write("basura.csv", &bytes);
    let b = dry_run(&wd, "basura.csv");
    assert_eq!(b.run.code, 2, "{:?}", b.run);
    assert!(b.run.stderr.contains("basura.csv"), "{:?}", b.run);
}

#[test]
fn a_zip_that_is_no_workbook_and_a_truncated_workbook_are_refused() {
    let wd = Workdir::new();
    let mut junk = b"PK\x03\x04".to_vec();
    junk.extend((0..5000u32).map(|i| (i * 7 + 3) as u8));
    wd.write("falso.xlsx", &junk);
    expect(
        &dry_run(&wd, "falso.xlsx"),
        2,
        &["falso.xlsx", "cannot read the workbook"],
    );

    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for r in 0..200u32 {
        ws.write(r, 0, format!("R{r}")).unwrap();
        ws.write(r, 1, r).unwrap();
    }
    let full = wb.save_to_buffer().unwrap();
    wd.write("cortado.xlsx", &full[..full.len() / 2]);
    expect(&dry_run(&wd, "cortado.xlsx"), 2, &["cortado.xlsx"]);
}

#[test]
fn a_password_protected_workbook_is_refused_with_what_to_do() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let wd = Workdir::new();
    std::fs::copy(
        corpus.join("calamine/pass_protected.xlsx"),
        wd.path("clave.xlsx"),
    )
    .unwrap();
    expect(
        &dry_run(&wd, "clave.xlsx"),
        2,
        &["clave.xlsx", "password-protected", "unprotected copy"],
    );
}

#[test]
fn a_text_file_named_xls_is_refused() {
    let wd = Workdir::new();
    wd.write("export.xls", "registro\tobligacion\nR1\tO1\n");
    expect(
        &dry_run(&wd, "export.xls"),
        2,
        &["export.xls", "plain text", "rename it to .csv"],
    );
}

#[test]
fn a_five_megabyte_cell_is_read_in_bounded_memory() {
    let wd = Workdir::new();
    let mut s = String::from("registro,obligacion,nota\nR1,O1,");
    s.push_str(&"x".repeat(5 * 1024 * 1024));
    s.push_str("\nR1,O2,corta\n");
    wd.write("celda.csv", s);
    let b = dry_run(&wd, "celda.csv");
    expect(&b, 0, &[]);
    assert!(b.peak_mib < 200, "peak {} MiB", b.peak_mib);
    assert_eq!(read_jsonl(&wd.path("p.jsonl")).len(), 2);
}

#[test]
fn ten_thousand_columns_are_read() {
    let wd = Workdir::new();
    let header: Vec<String> = std::iter::once("registro".to_string())
        .chain(std::iter::once("obligacion".to_string()))
        .chain((2..10_000).map(|i| format!("c{i}")))
        .collect();
    let row: Vec<String> = (0..10_000).map(|i| format!("v{i}")).collect();
    wd.write(
        "ancho.csv",
        format!("{}\n{}\n", header.join(","), row.join(",")),
    );
    let b = dry_run(&wd, "ancho.csv");
    expect(&b, 0, &[]);
    let p = read_jsonl(&wd.path("p.jsonl"));
    assert_eq!(
        p[0]["body"]["fields"]["form"].as_array().unwrap().len(),
        9_998
    );
}

#[test]
fn a_fifty_megabyte_line_with_no_newline_is_refused_without_reading_it_all() {
    let wd = Workdir::new();
    let mut s = String::from("registro,obligacion\nR1,");
    s.push_str(&"9".repeat(50 * 1024 * 1024));
    wd.write("linea.csv", s);
    let b = dry_run(&wd, "linea.csv");
    expect(&b, 2, &["linea.csv", "more than 8 MiB"]);
    assert!(b.peak_mib < 64, "peak {} MiB", b.peak_mib);
}

#[test]
fn an_unterminated_quote_at_the_end_makes_that_row_invalid() {
    let wd = Workdir::new();
    wd.write(
        "comilla.csv",
        "registro,obligacion,nota\nR1,O1,bien\nR1,O2,\"sin cerrar\nR1,O3,perdida\n",
    );
    let b = dry_run(&wd, "comilla.csv");
    expect(&b, 1, &[]);
    let r = read_results(&wd.path("r.csv"));
    assert_eq!(r.len(), 2);
    assert_eq!(r[1]["row"], "3");
    assert!(r[1]["error"].contains("never closed"), "{:?}", r[1]);
}

#[test]
fn mixed_line_ends_keep_row_numbers_right() {
    let wd = Workdir::new();
    wd.write(
        "mezcla.csv",
        "registro,obligacion\r\nR1,O1\nR1,O2\r\n\r\nR1,O3\n",
    );
    let b = dry_run(&wd, "mezcla.csv");
    expect(&b, 0, &[]);
    let rows: Vec<String> = read_results(&wd.path("r.csv"))
        .iter()
        .map(|r| r["row"].clone())
        .collect();
    assert_eq!(rows, ["2", "3", "5"]);
}

#[test]
fn headers_with_a_bom_non_breaking_or_trailing_spaces_still_match() {
    let wd = Workdir::new();
    wd.write(
        "bom.csv",
        "\u{feff}registro ,\u{a0}obligacion\u{a0}\nR1,O1\n",
    );
    let b = dry_run(&wd, "bom.csv");
    expect(&b, 0, &[]);
    let p = read_jsonl(&wd.path("p.jsonl"));
    assert_eq!(p[0]["body"]["wolkvox_id"], "R1");
    assert_eq!(p[0]["body"]["fields"]["id"], "O1");
}

#[test]
fn duplicate_headers_are_refused_naming_both() {
    let wd = Workdir::new();
    wd.write("dup.csv", "registro,obligacion,Saldo,saldo \nR1,O1,1,2\n");
    expect(
        &dry_run(&wd, "dup.csv"),
        2,
        &["dup.csv", "\"Saldo\" (column 3) and \"saldo \" (column 4)"],
    );
}

#[test]
fn windows_1252_without_an_encoding_is_refused_with_the_fix() {
    let wd = Workdir::new();
    wd.write(
        "latin.csv",
        b"registro;obligacion;Ciudad\nR1;O1;Bogot\xe1\n",
    );
    expect(
        &dry_run(&wd, "latin.csv"),
        2,
        &["latin.csv", "row 2", "encoding = \"windows-1252\""],
    );
}

#[test]
fn formula_looking_cells_are_data_sent_unchanged() {
    let wd = Workdir::new();
    wd.write(
        "formulas.csv",
        "registro,obligacion,nota\n=R1,+O1,-5\n@R2,=SUM(A1:A2),@cmd\n",
    );
    let b = dry_run(&wd, "formulas.csv");
    expect(&b, 0, &[]);
    let p = read_jsonl(&wd.path("p.jsonl"));
    assert_eq!(p[0]["body"]["wolkvox_id"], "=R1");
    assert_eq!(p[0]["body"]["fields"]["id"], "+O1");
    assert_eq!(p[0]["body"]["fields"]["form"][0]["value"], "-5");
    assert_eq!(p[1]["body"]["wolkvox_id"], "@R2");
    assert_eq!(p[1]["body"]["fields"]["id"], "=SUM(A1:A2)");
}

#[test]
fn a_missing_sheet_lists_the_sheets() {
    let wd = Workdir::new();
    let mut wb = Workbook::new();
    wb.add_worksheet()
        .set_name("Cartera")
        .unwrap()
        .write(0, 0, "registro")
        .unwrap();
    wb.add_worksheet().set_name("Resumen").unwrap();
    wb.save(wd.path("libro.xlsx")).unwrap();
    wd.write("m.toml", MAPPING);
    let b = run_bounded(
        &wd,
        &[
            "import",
            "libro.xlsx",
            "--mapping",
            "m.toml",
            "--dry-run",
            "--sheet",
            "Hoja1",
        ],
        Duration::from_secs(20),
    );
    expect(
        &b,
        2,
        &[
            "libro.xlsx",
            "no sheet \"Hoja1\"",
            "\"Cartera\", \"Resumen\"",
        ],
    );
}

#[test]
fn a_workbook_whose_first_sheet_is_empty_points_to_the_others() {
    let wd = Workdir::new();
    let mut wb = Workbook::new();
    wb.add_worksheet().set_name("Portada").unwrap();
    let data = wb.add_worksheet().set_name("Cartera").unwrap();
    data.write(0, 0, "registro").unwrap();
    data.write(0, 1, "obligacion").unwrap();
    data.write(1, 0, "R1").unwrap();
    data.write(1, 1, "O1").unwrap();
    wb.save(wd.path("libro.xlsx")).unwrap();
    let b = dry_run(&wd, "libro.xlsx");
    expect(
        &b,
        2,
        &[
            "libro.xlsx",
            "sheet \"Portada\" is empty",
            "\"Cartera\"",
            "--sheet",
        ],
    );
}

fn mapping_error(mapping: &str, phrases: &[&str]) {
    let wd = Workdir::new();
    wd.write("in.csv", "registro,obligacion\nR1,O1\n");
    wd.write("bad.toml", mapping);
    let b = run_bounded(
        &wd,
        &["import", "in.csv", "--mapping", "bad.toml", "--dry-run"],
        Duration::from_secs(20),
    );
    let mut all = vec!["bad.toml"];
    all.extend_from_slice(phrases);
    expect(&b, 2, &all);
    assert!(
        !wd.path("in.csv.results.csv").exists(),
        "nothing is written for an unusable mapping"
    );
}

#[test]
fn hostile_mappings_are_refused_with_line_and_fix() {
    mapping_error("[request]\noperation = \"x\n", &["line 2, column"]);
    mapping_error(
        "[source]\nheader_row = \"uno\"\n",
        &["line 2", "invalid type"],
    );
    mapping_error("[fields]\nwolkvox_id = 5\n", &["line 2", "invalid type"]);
    mapping_error(
        &format!("{MAPPING}[form]\nexclud = []\n"),
        &["unknown field `exclud`", "did you mean `exclude`"],
    );
    mapping_error(
        &format!(
            "{MAPPING}last_pay_date = {{ column = \"f\", type = \"date\", formats = [\"%Q\"] }}\n"
        ),
        &["\"%Q\" is not a valid date format"],
    );
    mapping_error(
        "[request]\noperation = \"\"\n[fields]\nwolkvox_id = \"registro\"\nid = \"obligacion\"\n",
        &["operation is empty"],
    );
    mapping_error(
        &format!("{MAPPING}name = {{ column = \"registro\", value = \"X\" }}\n"),
        &["has both column and value"],
    );
    mapping_error(
        "[fields]\nid = \"obligacion\"\n",
        &["wolkvox_id is required"],
    );
    mapping_error(
        &format!("{MAPPING}total_balance = {{ column = \"Saldo\", type = \"number\" }}\n"),
        &["column \"Saldo\" not found"],
    );
}

#[test]
fn an_unreadable_mapping_or_input_path_is_named() {
    let wd = Workdir::new();
    wd.write("m.toml", MAPPING);
    let b = run_bounded(
        &wd,
        &[
            "import",
            "no-existe.csv",
            "--mapping",
            "m.toml",
            "--dry-run",
        ],
        Duration::from_secs(20),
    );
    expect(&b, 2, &["no-existe.csv", "no such file"]);
    let b = run_bounded(
        &wd,
        &["import", "x.csv", "--mapping", "falta.toml", "--dry-run"],
        Duration::from_secs(20),
    );
    expect(&b, 2, &["falta.toml", "no such file"]);
}
