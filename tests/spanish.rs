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
