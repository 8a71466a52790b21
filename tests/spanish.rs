//! Messages in Spanish: chosen by --lang or the locale, for every part of a
//! run a person reads, while what scripts read (status values, the results
//! file's columns, exit codes) stays the same in every language.

mod common;

use common::{read_results, Run, Workdir};

fn sample(wd: &Workdir) {
    wd.write(
        "cartera.csv",
        "Registro,Nro Obligación,Saldo\nR1,A1,100\nR1,A2,abc\nR1,A3,300\n",
    );
    wd.write(
        "m.toml",
        "[request]\noperation = \"cobranza\"\n[fields]\nwolkvox_id = \"Registro\"\nid = \"Nro Obligación\"\ntotal_balance = { column = \"Saldo\", type = \"number\" }\n",
    );
}

#[test]
fn the_summary_speaks_spanish_with_lang_es_or_a_spanish_locale() {
    let wd = Workdir::new();
    sample(&wd);
    let args = [
        "import",
        "cartera.csv",
        "--mapping",
        "m.toml",
        "--dry-run",
        "-o",
        "r.csv",
    ];
    let run = wd.run(&[&args[..], &["--lang", "es"]].concat());
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("Simulacro: 3 filas en"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("problemas más comunes:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("1 fila, p. ej. la fila 3"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("resultados: r.csv"), "{}", run.stderr);
    // Status values stay the results file's own words.
    assert!(run.stderr.contains("valid 2, invalid 1"), "{}", run.stderr);
    let results = read_results(&wd.path("r.csv"));
    assert_eq!(results[1]["status"], "invalid");

    // The locale chooses it too; --lang wins over it.
    let run = Run::from(
        wd.command(&args)
            .env("LANG", "es_CO.UTF-8")
            .output()
            .unwrap(),
    );
    assert!(run.stderr.contains("Simulacro: "), "{}", run.stderr);
    let run = Run::from(
        wd.command(&[&args[..], &["--lang", "en"]].concat())
            .env("LC_ALL", "es_ES.UTF-8")
            .output()
            .unwrap(),
    );
    assert!(run.stderr.contains("Dry run: 3 rows in"), "{}", run.stderr);
}

#[test]
fn setup_errors_and_the_ledger_commands_speak_spanish() {
    let wd = Workdir::new();
    sample(&wd);
    // No token: the one-line error, in Spanish, exit 2.
    let run = wd.run(&[
        "import",
        "cartera.csv",
        "--mapping",
        "m.toml",
        "--server",
        "crm0001.wolkvox.com",
        "--lang",
        "es",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("sin token: defina la variable de entorno WOLKVOX_TOKEN"),
        "{}",
        run.stderr
    );
    // A retired host, named with its replacement.
    let run = Run::from(
        wd.command(&[
            "import",
            "cartera.csv",
            "--mapping",
            "m.toml",
            "--server",
            "sv0001.crmvox.com",
            "--lang",
            "es",
        ])
        .env("WOLKVOX_TOKEN", "t")
        .output()
        .unwrap(),
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "el host sv0001.crmvox.com fue retirado el 2024-11-30; use crm0001.wolkvox.com"
        ),
        "{}",
        run.stderr
    );
    // No ledger yet.
    let run = wd.run(&["ledger", "runs", "--lang", "es"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("todavía no hay un registro aquí"),
        "{}",
        run.stderr
    );
}

fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The bundled samples, copied into the test's folder under `samples/`.
fn with_samples(wd: &Workdir) {
    std::fs::create_dir(wd.path("samples")).unwrap();
    for name in ["cartera.csv", "cartera.xlsx", "expedientes.csv"] {
        let to = wd.path(&format!("samples/{name}"));
        std::fs::copy(repo(&format!("samples/{name}")), to).unwrap();
    }
}

fn assert_has(text: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(text.contains(w), "missing {w:?} in\n{text}");
    }
}

fn assert_lacks(text: &str, unwanted: &[&str]) {
    for w in unwanted {
        assert!(!text.contains(w), "{w:?} is still there in\n{text}");
    }
}

/// Windows-1252 bytes of `text`, as a Windows export writes them.
fn windows_1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 text"))
        .collect()
}

#[test]
fn inspect_speaks_spanish() {
    let wd = Workdir::new();
    wd.write(
        "cartera.csv",
        windows_1252(
            "Cartera del banco - junio 2024\n\nCédula;Nro Obligación;Saldo;Fecha Vencimiento;Vacía\n\
             123;A1;1.234,50;31/01/2024;\n456;A2;99,00;01/02/2024;\n",
        ),
    );
    let run = wd.run(&["inspect", "cartera.csv", "--lang", "es"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_has(
        &run.stdout,
        &[
            "archivo: cartera.csv\n",
            "formato: CSV, separador \";\" (detectado)\n",
            "codificación: no es UTF-8; se lee como windows-1252 (agregue encoding = \"windows-1252\" en [source])\n",
            "fila de encabezados: 3 (debajo de un título; para elegir otra, ponga header_row en [source] o use --header-row)\n",
            "filas de datos: 2\n",
            "separador decimal en los números escritos como texto: \",\"\n",
            "columnas (con el tipo que se escribe en type del mapeo):\n",
            "    1. \"Cédula\"  integer  p. ej. \"123\", \"456\"\n",
            "    3. \"Saldo\"  number  p. ej. \"1.234,50\", \"99,00\"\n",
            "    4. \"Fecha Vencimiento\"  date (%d/%m/%Y)  p. ej. \"31/01/2024\", \"01/02/2024\"\n",
            "    5. \"Vacía\"  vacía  p. ej. -\n",
        ],
    );
    assert_lacks(
        &run.stdout,
        &[
            "file:",
            "format:",
            "encoding:",
            "header row",
            "data rows",
            "e.g.",
        ],
    );
    // The same file in English, as it always read.
    let run = wd.run(&["inspect", "cartera.csv"]);
    assert_has(
        &run.stdout,
        &[
            "header row: 3 (below a title; set header_row in [source] or pass --header-row to choose another)\n",
            "    5. \"Vacía\"  empty  e.g. -\n",
        ],
    );

    // A workbook, a tab-separated file, and a mapping that forces an
    // encoding the file does not have.
    with_samples(&wd);
    let run = wd.run(&["inspect", "samples/cartera.xlsx", "--lang", "es"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_has(
        &run.stdout,
        &[
            "formato: libro de cálculo, hojas: \"Cartera\"",
            "\nhoja: \"Cartera\"\n",
        ],
    );
    wd.write("tab.txt", "Cédula\tSaldo\n1\t2\n");
    wd.write(
        "m.toml",
        "[source]\ndelimiter = \"\\t\"\nencoding = \"windows-1252\"\n",
    );
    let run = wd.run(&["inspect", "tab.txt", "--mapping", "m.toml", "--lang", "es"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_has(
        &run.stdout,
        &[
            "formato: CSV, separador tabulador (TAB) (según el mapeo)\n",
            "codificación: UTF-8\n",
            "\nadvertencia: ",
        ],
    );
}

#[test]
fn mapping_init_comments_in_spanish_over_the_same_toml() {
    let wd = Workdir::new();
    with_samples(&wd);
    for input in ["samples/cartera.csv", "samples/cartera.xlsx"] {
        let args = [
            "mapping",
            "init",
            input,
            "--lookup",
            "samples/expedientes.csv",
            "--operation",
            "cobranza",
        ];
        let es = wd.run(&[&args[..], &["--lang", "es"]].concat());
        let en = wd.run(&args);
        assert_eq!((es.code, en.code), (0, 0), "{es:?}\n{en:?}");
        // Keys, values and their order: the same TOML in both languages.
        let es_toml: toml::Value = toml::from_str(&es.stdout).expect("the Spanish starter is TOML");
        let en_toml: toml::Value = toml::from_str(&en.stdout).expect("TOML");
        assert_eq!(es_toml, en_toml);
        let settings = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(settings(&es.stdout), settings(&en.stdout));
        // Every comment is Spanish, but for the command and the column names.
        let prose = |l: &&str| l.starts_with("# ") && !l.starts_with("#  ");
        let en_comments: Vec<&str> = en.stdout.lines().filter(prose).collect();
        for line in es.stdout.lines().filter(prose) {
            assert!(!en_comments.contains(&line), "{line:?} is English");
        }
        let file = input.trim_start_matches("samples/");
        assert_has(
            &es.stdout,
            &[
                &format!("# Mapeo inicial para {file}\n# Revise cada línea y luego valídelo con:\n"),
                "# El wolkvox_id de cada fila, tomado de samples/expedientes.csv:\n",
                "# 36 de los 36 valores revisados de \"Nro Documento\" están en su columna \"Identificación\" (comparados como digits).\n",
                "# Relativo al archivo de mapeo: cámbielo si guarda el mapeo en otra carpeta.\n",
                "# ^ \"ID Registro\" también parecía un id de expediente",
                "# Estas columnas no coinciden con ningún campo: cada una va en form como {name, value}.\n",
                "# Copie en exclude las que el CRM no necesita:\n",
            ],
        );

        // It is a mapping, and the sample dry-runs with it.
        let mapping = wolkvox_import::mapping::Mapping::parse(&es.stdout);
        assert!(mapping.is_ok(), "{:?}\n{}", mapping.err(), es.stdout);
        wd.write("inicial.toml", &es.stdout);
        let run = wd.run(&[
            "import",
            input,
            "--mapping",
            "inicial.toml",
            "--dry-run",
            "-o",
            "r.csv",
            "--lang",
            "es",
        ]);
        assert!(run.code <= 1, "{run:?}");
        let results = read_results(&wd.path("r.csv"));
        assert!(
            results.iter().filter(|r| r["status"] == "valid").count() >= 40,
            "{run:?}"
        );
    }

    // Without --operation, the placeholder is explained in Spanish.
    let es = wd.run(&["mapping", "init", "samples/cartera.xlsx", "--lang", "es"]);
    assert_has(
        &es.stdout,
        &["# La operación del CRM que recibe las obligaciones: cambie CHANGE_ME antes de enviar.\noperation = \"CHANGE_ME\"\n"],
    );
    assert!(wolkvox_import::mapping::Mapping::parse(&es.stdout).is_ok());
}

#[test]
fn mapping_init_explains_missing_fields_in_spanish() {
    let wd = Workdir::new();
    wd.write("cartera.csv", "Cédula;Saldo Total;Ciudad\n123;10;Cali\n");
    wd.write("otros.csv", "Código,Descripción\nA1,uno\nB2,dos\n");
    let run = wd.run(&["mapping", "init", "cartera.csv", "--lang", "es"]);
    assert_eq!(run.code, 0, "{run:?}");
    toml::from_str::<toml::Value>(&run.stdout).expect("the Spanish starter is TOML");
    assert_has(
        &run.stdout,
        &[
            "# wolkvox_id es obligatorio: el id del expediente de cobranza en el CRM al que\n",
            "# wolkvox_id = { column = \"Cédula\", lookup = \"expedientes\" }\n",
            "# id es obligatorio: indique la columna que lo contiene, p. ej.\n# id = \"Nombre de la columna\"\n",
            "# name = \"Nombre de la columna\"   (ninguna columna coincidió)\n",
        ],
    );
    assert_has(
        &run.stderr,
        &["nota: ninguna columna parece un id de expediente (wolkvox_id)"],
    );
    let run = wd.run(&[
        "mapping",
        "init",
        "cartera.csv",
        "--lookup",
        "otros.csv",
        "--lang",
        "es",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_has(
        &run.stderr,
        &["ninguna columna de cartera.csv coincidió con una columna de otros.csv, ni por nombre ni por valores; escriba [lookups] a mano"],
    );
}

/// Runs a dry run of the Spanish sample with `mapping` in Spanish; it must
/// be refused before any row is read.
fn refused_in_spanish(wd: &Workdir, mapping: impl AsRef<[u8]>) -> String {
    wd.write("m.toml", mapping);
    let run = wd.run(&[
        "import",
        "cartera.csv",
        "--mapping",
        "m.toml",
        "--dry-run",
        "--lang",
        "es",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    run.stderr
}

#[test]
fn mapping_file_errors_speak_spanish() {
    let wd = Workdir::new();
    sample(&wd);
    let fields = "[request]\noperation = \"cobranza\"\n[fields]\nwolkvox_id = \"Registro\"\nid = \"Nro Obligación\"\n";

    // An unknown key: where, what, and the key it was meant to be.
    let e = refused_in_spanish(&wd, format!("[source]\nheadr_row = 2\n{fields}"));
    assert_has(
        &e,
        &[
            "m.toml: problema en la línea 2, columna 1\n",
            "2 | headr_row = 2\n",
            "  | ^^^^^^^^^\n",
            "la clave `headr_row` no existe aquí; las válidas son `sheet`, `header_row`, `delimiter`, `encoding`, `decimal_separator`, `date_formats`\n",
            "¿quiso decir `header_row` en lugar de `headr_row`?",
        ],
    );
    assert_lacks(&e, &["unknown field", "did you mean", "TOML parse error"]);

    // Values of the wrong kind.
    let e = refused_in_spanish(&wd, format!("[source]\nheader_row = \"dos\"\n{fields}"));
    assert_has(
        &e,
        &["tipo de valor equivocado: hay el texto \"dos\", pero se esperaba un número entero, sin comillas"],
    );
    let e = refused_in_spanish(&wd, "[fields]\nwolkvox_id = \"Registro\"\nid = 5\n");
    assert_has(
        &e,
        &["tipo de valor equivocado: hay el número `5`, pero se esperaba el nombre de una columna o una tabla como { column = \"Saldo\", type = \"number\" }"],
    );
    let e = refused_in_spanish(
        &wd,
        "[fields]\nwolkvox_id = \"Registro\"\nid = { column = \"Nro Obligación\", type = \"dinero\" }\n",
    );
    assert_has(
        &e,
        &["el valor `dinero` no es válido aquí; los válidos son `text`, `number`, `integer`, `date`"],
    );

    // What the checks find once the file reads.
    let e = refused_in_spanish(
        &wd,
        "[source]\ndelimiter = \"ab\"\nheader_row = 0\n[request]\noperation = \" \"\n[fields]\nname = { column = \"Saldo\", value = \"x\" }\n",
    );
    assert_has(
        &e,
        &[
            "[source] delimiter = \"ab\": el separador es un solo carácter, como \";\" \",\" \"|\" o \"\\t\"",
            "[source] header_row = 0: las filas se numeran desde 1",
            "[request] operation está vacío; escriba el nombre de la operación de su CRM",
            "[fields] wolkvox_id es obligatorio: el id, en el CRM, del expediente de cobranza",
            "[fields] id es obligatorio: la columna con el número de la obligación",
            "[fields] name tiene column y value a la vez",
        ],
    );
    let e = refused_in_spanish(
        &wd,
        format!(
            "{}\n[lookups.expedientes]\nfile = \"e.csv\"\nkey = \"Registro\"\nvalue = \"wolkvox_id\"\n",
            fields.replace("\"Registro\"\n", "{ column = \"Registro\", lookup = \"expediente\" }\n")
        ),
    );
    assert_has(
        &e,
        &["[fields] wolkvox_id: lookup = \"expediente\": no existe [lookups.expediente]; ¿quiso decir \"expedientes\"?"],
    );

    // A mapping saved in Notepad's "ANSI".
    let e = refused_in_spanish(
        &wd,
        windows_1252(&format!(
            "# Cartera de cobranza\n# Mapeo de Bogotá\n{fields}"
        )),
    );
    assert_has(
        &e,
        &["m.toml: la línea 2 tiene caracteres que no son UTF-8; guarde el mapeo como UTF-8 (en el Bloc de notas: Guardar como, Codificación: UTF-8)"],
    );

    // A lookup file that gives one key two values.
    wd.write("e.csv", "Registro,wolkvox_id\nR1,61fa3\nR1,7b2c1\n");
    let e = refused_in_spanish(
        &wd,
        format!(
            "{}\n[lookups.expedientes]\nfile = \"e.csv\"\nkey = \"Registro\"\nvalue = \"wolkvox_id\"\n",
            fields.replace("\"Registro\"\n", "{ column = \"Registro\", lookup = \"expedientes\" }\n")
        ),
    );
    assert_has(
        &e,
        &["[lookups.expedientes] e.csv, filas 2 y 3: la clave \"R1\" (columna \"Registro\") tiene dos valores en la columna \"wolkvox_id\": \"61fa3\" y \"7b2c1\"; deje solo una de las filas, o ponga duplicates = \"first\" en [lookups.expedientes] para usar la primera"],
    );
}

/// The mapping of the portfolios below: a decimal comma, dd/mm/yyyy dates,
/// and the record found by the document in a lookup file.
const INVALID_MAPPING: &str = r#"
[source]
delimiter = ";"
decimal_separator = ","
date_formats = ["%d/%m/%Y"]

[request]
operation = "cobranza"

[lookups.expedientes]
file = "expedientes.csv"
key = "Identificación"
value = "wolkvox_id"
normalize = "digits"

[fields]
wolkvox_id = { column = "Cédula", lookup = "expedientes" }
id = "Nro Obligación"
total_balance = { column = "Saldo Total", type = "number" }
expiring_date = { column = "Fecha Vencimiento", type = "date" }
days_delay = { column = "Días Mora", type = "integer" }
"#;

/// A folder holding `m.toml` (the mapping above) and the lookup file it
/// names, with the one document the portfolios below find.
fn invalid_mapping_workdir() -> Workdir {
    let wd = Workdir::new();
    wd.write("m.toml", INVALID_MAPPING);
    wd.write(
        "expedientes.csv",
        "Identificación,wolkvox_id\n1020345678,61fa3\n",
    );
    wd
}

/// A group of the report's problems: (kind, status, column, rows).
type Group = (String, String, Option<String>, u64);

/// Each `<article class="problem">` of a report, sorted.
fn report_groups(html: &str) -> Vec<Group> {
    let attr = |head: &str, name: &str| -> Option<String> {
        let key = format!(" {name}=\"");
        let i = head.find(&key)? + key.len();
        Some(head[i..i + head[i..].find('"')?].to_string())
    };
    let mut groups: Vec<_> = html
        .match_indices("<article class=\"problem\"")
        .map(|(i, _)| {
            let head = &html[i..i + html[i..].find('>').unwrap()];
            (
                attr(head, "data-kind").unwrap(),
                attr(head, "data-status").unwrap(),
                attr(head, "data-column"),
                attr(head, "data-rows").unwrap().parse().unwrap(),
            )
        })
        .collect();
    groups.sort();
    groups
}

/// A dry run of `input` in `lang`, with its results and report under
/// names of that language; returns the results and the report's groups.
fn dry_run_in(wd: &Workdir, input: &str, lang: &str) -> (Vec<common::ResultRow>, Vec<Group>) {
    let results = format!("{lang}.results.csv");
    let report = format!("{lang}.html");
    let run = wd.run(&[
        "import",
        input,
        "--mapping",
        "m.toml",
        "--dry-run",
        "-o",
        &results,
        "--report",
        &report,
        "--lang",
        lang,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    (
        read_results(&wd.path(&results)),
        report_groups(&wd.read(&report)),
    )
}

/// The error of the results' row `row`.
fn error_of(results: &[common::ResultRow], row: u64) -> &str {
    let r = results
        .iter()
        .find(|r| r["row"] == row.to_string())
        .unwrap_or_else(|| panic!("no row {row}"));
    assert_eq!(r["status"], "invalid", "{r:?}");
    &r["error"]
}

/// Every invalid row says its problems in Spanish, with none of the
/// English words left.
fn assert_all_spanish(results: &[common::ResultRow]) {
    for r in results.iter().filter(|r| r["status"] == "invalid") {
        assert_lacks(
            &r["error"],
            &[
                "column \"",
                " is not ",
                " is empty",
                "duplicate of",
                "the row",
                "holds ",
            ],
        );
    }
}

fn kinds(groups: &[Group]) -> Vec<&str> {
    let mut k: Vec<&str> = groups.iter().map(|g| g.0.as_str()).collect();
    k.dedup();
    k
}

/// Dry-runs `input` in Spanish and in English: each `(row name, words)` of
/// `expected` is in that row's Spanish error, the `english` one in its
/// English error, every error reads as Spanish, and the report's groups are
/// the same in both languages, with a group of each of `kinds`. Returns the
/// Spanish results and groups.
fn in_both_languages(
    wd: &Workdir,
    input: &str,
    row: &dyn Fn(&str) -> u64,
    expected: &[(&str, &str)],
    english: (&str, &str),
    kinds_wanted: &[&str],
) -> (Vec<common::ResultRow>, Vec<Group>) {
    let (es, es_groups) = dry_run_in(wd, input, "es");
    for (name, words) in expected {
        assert_has(error_of(&es, row(name)), &[words]);
    }
    assert_all_spanish(&es);
    let (en, en_groups) = dry_run_in(wd, input, "en");
    assert_has(error_of(&en, row(english.0)), &[english.1]);
    assert_eq!(es_groups, en_groups);
    let found = kinds(&es_groups);
    for kind in kinds_wanted {
        assert!(found.contains(kind), "no {kind} group in {es_groups:?}");
    }
    (es, es_groups)
}

#[test]
fn a_csv_dry_run_says_every_invalid_cell_in_spanish_and_groups_as_in_english() {
    let wd = invalid_mapping_workdir();
    let mut csv: Vec<u8> = "Cédula;Nro Obligación;Saldo Total;Fecha Vencimiento;Días Mora\n".into();
    // Enough good rows that the bad bytes below lie past the part of the
    // file read to check its encoding, so they are one row's problem.
    let good = 2000;
    for i in 1..=good {
        csv.extend(format!("1.020.345.678;OB-{i};1.234,50;15/03/2025;30\n").bytes());
    }
    let bad: [(&str, &[u8]); 12] = [
        ("empty", b"1020345678;;100;15/03/2025;30\n"),
        ("not-number", b"1020345678;OB-A;N/A;15/03/2025;30\n"),
        ("decimal-separator", b"1020345678;OB-B;1.5;15/03/2025;30\n"),
        ("not-whole", b"1020345678;OB-C;100;15/03/2025;12,5\n"),
        ("impossible-date", b"1020345678;OB-D;100;31/02/2024;30\n"),
        ("not-date", b"1020345678;OB-E;100;2024/13/45;30\n"),
        ("not-in-lookup", b"55.555.555;OB-F;100;15/03/2025;30\n"),
        ("row-width", b"1020345678;OB-G;100;15/03/2025;30;extra\n"),
        ("encoding", b"1020345678;OB-H\xe9;100;15/03/2025;30\n"),
        ("duplicate", b"1020345678;OB-1;1.234,50;15/03/2025;30\n"),
        ("three cells", b"1020345678;OB-I;abc;30/02/2023;1,5\n"),
        (
            "unclosed-quote",
            b"1020345678;\"OB-J;100;15/03/2025;30\nmore\n",
        ),
    ];
    for (_, line) in bad {
        csv.extend_from_slice(line);
    }
    wd.write("cartera.csv", &csv);
    let row = |name: &str| good + 2 + bad.iter().position(|(n, _)| *n == name).unwrap() as u64;

    let expected = [
        ("empty", "columna \"Nro Obligación\" está vacía"),
        (
            "not-number",
            "columna \"Saldo Total\": \"N/A\" no es un número (separador decimal \",\")",
        ),
        (
            "decimal-separator",
            "columna \"Saldo Total\": \"1.5\" no es un número con separador decimal \",\" (¿es correcto decimal_separator?)",
        ),
        ("not-whole", "columna \"Días Mora\": \"12,5\" no es un número entero"),
        (
            "impossible-date",
            "columna \"Fecha Vencimiento\": \"31/02/2024\" no es una fecha real",
        ),
        (
            "not-date",
            "columna \"Fecha Vencimiento\": \"2024/13/45\" no es una fecha en el formato dd/mm/yyyy",
        ),
        (
            "not-in-lookup",
            "columna \"Cédula\": \"55.555.555\" no está en expedientes.csv (columna \"Identificación\"); revise la celda, o agregue su expediente a expedientes.csv",
        ),
        (
            "row-width",
            "la fila tiene 6 celdas pero el encabezado tiene 5; busque un separador de más o una comilla sin cerrar",
        ),
        ("encoding", "la fila tiene bytes que no son UTF-8"),
        (
            "duplicate",
            "repite la fila 2 (mismo wolkvox_id \"61fa3\" e id \"OB-1\")",
        ),
        (
            "unclosed-quote",
            "una comilla abierta en esta fila nunca se cierra, así que la fila sigue hasta el final del archivo",
        ),
    ];
    let english = (
        "not-number",
        "column \"Saldo Total\": \"N/A\" is not a number (decimal separator \",\")",
    );
    let kinds: Vec<&str> = expected.iter().map(|(name, _)| *name).collect();
    let (es, es_groups) = in_both_languages(&wd, "cartera.csv", &row, &expected, english, &kinds);
    assert_eq!(es.len() as u64, good + bad.len() as u64);
    assert_eq!(
        error_of(&es, row("three cells")),
        "columna \"Saldo Total\": \"abc\" no es un número (separador decimal \",\"); \
         columna \"Fecha Vencimiento\": \"30/02/2023\" no es una fecha real; \
         columna \"Días Mora\": \"1,5\" no es un número entero"
    );
    let saldo = |kind: &str| {
        es_groups
            .iter()
            .find(|g| g.0 == kind && g.2.as_deref() == Some("Saldo Total"))
            .map(|g| g.3)
    };
    assert_eq!(saldo("not-number"), Some(2), "{es_groups:?}");
    assert_eq!(saldo("decimal-separator"), Some(1), "{es_groups:?}");
}

#[test]
fn a_workbook_dry_run_says_every_invalid_cell_in_spanish_and_groups_as_in_english() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
    let wd = invalid_mapping_workdir();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Cartera").unwrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (c, h) in [
        "Cédula",
        "Nro Obligación",
        "Saldo Total",
        "Fecha Vencimiento",
        "Días Mora",
        "Teléfono",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let due = ExcelDateTime::from_ymd(2025, 3, 15).unwrap();
    // Row 2 is good; each row below it holds one kind of bad cell.
    let rows = [
        "good",
        "empty",
        "not-number",
        "decimal-separator",
        "not-whole",
        "impossible-date",
        "not-date",
        "error-value",
        "wrong-type",
        "date-as-number",
        "cell",
        "not-in-lookup",
        "duplicate",
    ];
    for (i, name) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        let id = match *name {
            "empty" => None,
            "duplicate" => Some("OB-good".to_string()),
            other => Some(format!("OB-{other}")),
        };
        let document = if *name == "not-in-lookup" {
            "55.555.555"
        } else {
            "1020345678"
        };
        sheet.write_string(r, 0, document).unwrap();
        if let Some(id) = id {
            sheet.write_string(r, 1, id).unwrap();
        }
        match *name {
            "not-number" => sheet.write_string(r, 2, "N/A").map(|_| ()),
            "decimal-separator" => sheet.write_string(r, 2, "1.5").map(|_| ()),
            "error-value" => sheet
                .write_formula(r, 2, Formula::new("=NA()").set_result("#N/A"))
                .map(|_| ()),
            "wrong-type" => sheet.write_boolean(r, 2, true).map(|_| ()),
            "date-as-number" => sheet
                .write_datetime_with_format(r, 2, &due, &date)
                .map(|_| ()),
            _ => sheet.write_number(r, 2, 1234.5).map(|_| ()),
        }
        .unwrap();
        match *name {
            "impossible-date" => sheet.write_string(r, 3, "31/02/2024").map(|_| ()),
            "not-date" => sheet.write_string(r, 3, "2024/13/45").map(|_| ()),
            _ => sheet
                .write_datetime_with_format(r, 3, &due, &date)
                .map(|_| ()),
        }
        .unwrap();
        let days = if *name == "not-whole" { 12.5 } else { 30.0 };
        sheet.write_number(r, 4, days).unwrap();
        if *name == "cell" {
            // A phone typed as a number: 16 digits, already rounded.
            sheet.write_number(r, 5, 4_540_410_858_241_234.0).unwrap();
        }
    }
    book.save(wd.path("cartera.xlsx")).unwrap();
    let row = |name: &str| rows.iter().position(|n| *n == name).unwrap() as u64 + 2;

    let expected = [
        ("empty", "columna \"Nro Obligación\" está vacía"),
        ("not-number", "columna \"Saldo Total\": \"N/A\" no es un número"),
        (
            "decimal-separator",
            "\"1.5\" no es un número con separador decimal \",\"",
        ),
        ("not-whole", "columna \"Días Mora\": \"12.5\" no es un número entero"),
        ("impossible-date", "\"31/02/2024\" no es una fecha real"),
        ("not-date", "\"2024/13/45\" no es una fecha en el formato dd/mm/yyyy"),
        ("error-value", "columna \"Saldo Total\": tiene el valor de error #N/A"),
        ("wrong-type", "columna \"Saldo Total\": TRUE no es un número"),
        ("date-as-number", "columna \"Saldo Total\": tiene una fecha, no un número"),
        (
            "cell",
            "columna \"Teléfono\": el número 4540410858241230 tiene más de 15 cifras, así que la hoja de cálculo ya lo redondeó",
        ),
        ("not-in-lookup", "\"55.555.555\" no está en expedientes.csv"),
        ("duplicate", "repite la fila 2 (mismo wolkvox_id \"61fa3\" e id \"OB-good\")"),
    ];
    let english = (
        "error-value",
        "column \"Saldo Total\": holds the error value #N/A",
    );
    let kinds = [
        "empty",
        "not-number",
        "decimal-separator",
        "not-whole",
        "impossible-date",
        "not-date",
        "error-value",
        "wrong-type",
        "cell",
        "not-in-lookup",
        "duplicate",
    ];
    let (es, es_groups) = in_both_languages(&wd, "cartera.xlsx", &row, &expected, english, &kinds);
    assert_eq!(es.len(), rows.len());
    let wrong_type = es_groups
        .iter()
        .find(|g| g.0 == "wrong-type")
        .map(|g| (g.2.as_deref(), g.3));
    assert_eq!(wrong_type, Some((Some("Saldo Total"), 2)), "{es_groups:?}");
}

#[test]
fn the_readers_and_the_header_check_say_in_spanish_why_a_file_cannot_be_used() {
    let wd = invalid_mapping_workdir();
    let refused = |input: &str, extra: &[&str]| {
        let args = [
            &[
                "import",
                input,
                "--mapping",
                "m.toml",
                "--dry-run",
                "--lang",
                "es",
            ][..],
            extra,
        ]
        .concat();
        let run = wd.run(&args);
        assert_eq!(run.code, 2, "{run:?}");
        run.stderr
    };
    assert_has(
        &refused("nada.csv", &[]),
        &["nada.csv: no existe el archivo"],
    );
    // A Windows export read as UTF-8.
    wd.write(
        "latin.csv",
        windows_1252("Cédula;Nro Obligación\n1020345678;OB-1\n"),
    );
    assert_has(
        &refused("latin.csv", &[]),
        &["la fila 1 tiene bytes que no son UTF-8, así que el archivo está en otra codificación; si viene de Excel o de un sistema Windows, agregue encoding = \"windows-1252\" a la sección [source] del mapeo"],
    );
    // A web page saved as .xls, as banking systems export them.
    wd.write(
        "cartera.xls",
        "<html><body><table><tr><td>Cédula</td></tr></table></body></html>",
    );
    assert_has(
        &refused("cartera.xls", &[]),
        &["el archivo se llama .xls pero tiene una página web (HTML), no un libro de Excel"],
    );
    // A sheet that is not there.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Cartera").unwrap();
    sheet.write_string(0, 0, "Cédula").unwrap();
    book.save(wd.path("cartera.xlsx")).unwrap();
    assert_has(
        &refused("cartera.xlsx", &["--sheet", "Enero"]),
        &["no hay una hoja \"Enero\"; las hojas son \"Cartera\""],
    );
    // A header without a column the mapping names.
    wd.write(
        "saldo.csv",
        "Cédula;Nro Obligación;Saldo;Fecha Vencimiento;Días Mora\n1020345678;OB-1;100;15/03/2025;30\n",
    );
    let e = refused("saldo.csv", &[]);
    assert_has(
        &e,
        &["[fields] total_balance: no se encontró la columna \"Saldo Total\"; ¿quiso decir \"Saldo\"?"],
    );
    assert_lacks(&e, &["not found", "did you mean"]);
}

#[test]
fn the_summary_tells_problems_apart_by_column_in_spanish_as_in_english() {
    let wd = Workdir::new();
    wd.write(
        "cartera.csv",
        "Registro,Nro Obligación,Saldo,Mora\n\
         R1,A1,abc,3\nR1,A2,xyz,4\nR1,A3,100,tres\nR1,A4,200,5\n",
    );
    wd.write(
        "m.toml",
        "[request]\noperation = \"cobranza\"\n[fields]\nwolkvox_id = \"Registro\"\n\
         id = \"Nro Obligación\"\ntotal_balance = { column = \"Saldo\", type = \"number\" }\n\
         last_pay = { column = \"Mora\", type = \"number\" }\n",
    );
    for (lang, two, one) in [
        (
            "es",
            "2 filas, p. ej. la fila 2",
            "1 fila, p. ej. la fila 4",
        ),
        ("en", "2 rows, e.g. row 2", "1 row, e.g. row 4"),
    ] {
        let out = format!("{lang}.csv");
        let run = wd.run(&[
            "import",
            "cartera.csv",
            "--mapping",
            "m.toml",
            "--dry-run",
            "-o",
            &out,
            "--lang",
            lang,
        ]);
        assert_eq!(run.code, 1, "{run:?}");
        // Two problems in "Saldo" are one entry; the one in "Mora" another.
        assert!(run.stderr.contains(two), "{lang}: {}", run.stderr);
        assert!(run.stderr.contains(one), "{lang}: {}", run.stderr);
        assert!(run.stderr.contains("\"Mora\""), "{lang}: {}", run.stderr);
    }
}
