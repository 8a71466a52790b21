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
