//! The command line's own checks, run against the real binary: what it
//! refuses before anything is read or sent, and how it says so in each
//! language.

mod common;

use common::{Run, Workdir};
use std::path::Path;

/// A portfolio, a mapping with a lookup file beside it, and a token file.
fn portfolio(wd: &Workdir) {
    wd.write(
        "cartera.csv",
        "Cédula,Nro Obligación,Saldo\n1010,A1,100\n2020,A2,200\n",
    );
    wd.write(
        "expedientes.csv",
        "Identificación,wolkvox_id\n1010,R1\n2020,R2\n",
    );
    wd.write(
        "m.toml",
        "[request]\noperation = \"cobranza\"\n\
         [lookups.expedientes]\nfile = \"expedientes.csv\"\nkey = \"Identificación\"\nvalue = \"wolkvox_id\"\n\
         [fields]\nwolkvox_id = { column = \"Cédula\", lookup = \"expedientes\" }\n\
         id = \"Nro Obligación\"\ntotal_balance = { column = \"Saldo\", type = \"number\" }\n",
    );
    let token = wd.write("token", "s3cr3t-token-value\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(token, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// An import of the portfolio with `extra` options. A real run's server is
/// a closed port on this machine: every refusal here comes before the
/// first request, and a run that got past them would fail to connect.
fn import(wd: &Workdir, extra: &[&str]) -> Run {
    let mut args = vec!["import", "cartera.csv", "--mapping", "m.toml"];
    args.extend_from_slice(extra);
    let run = wd.run(&args);
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    run
}

/// A PEM file holding one CA certificate.
fn ca_pem() -> String {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().pem()
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const SERVER: &str = "http://127.0.0.1:9";

#[test]
fn no_output_replaces_a_file_the_run_reads_even_with_force() {
    let wd = Workdir::new();
    portfolio(&wd);
    wd.write("ca.pem", ca_pem());
    let read = [
        "cartera.csv",
        "m.toml",
        "expedientes.csv",
        "token",
        "ca.pem",
    ]
    .map(|name| (name, bytes(&wd.path(name))));
    let send = [
        "--server",
        SERVER,
        "--token-file",
        "token",
        "--ca-cert",
        "ca.pem",
        "--no-preflight",
        "--force",
    ];
    let cases: &[(&[&str], &str)] = &[
        (
            &["-o", "token"],
            "--output token would overwrite the token file (--token-file)",
        ),
        (
            &["--report", "ca.pem"],
            "--report ca.pem would overwrite the certificate file (--ca-cert)",
        ),
        (
            &["-o", "expedientes.csv"],
            "--output expedientes.csv would overwrite the lookup file of [lookups.expedientes]",
        ),
        // Spelt another way, it is still the same file.
        (
            &["--payloads", "./sub/../token"],
            "--payloads ./sub/../token would overwrite the token file",
        ),
        (
            &["--rejects", "cartera"],
            "--rejects cartera.csv would overwrite the input file",
        ),
        (
            &["--vanished", "ledger.sqlite-wal"],
            "a file kept beside the ledger",
        ),
        (
            &["-o", "ledger.sqlite.lock"],
            "a file kept beside the ledger",
        ),
        (
            &["-o", "ledger.sqlite"],
            "--output ledger.sqlite would overwrite the ledger",
        ),
    ];
    std::fs::create_dir(wd.path("sub")).unwrap();
    for (options, said) in cases {
        let run = import(&wd, &[&send[..], options].concat());
        assert_eq!(run.code, 2, "{options:?}: {run:?}");
        assert!(run.stderr.contains(said), "{options:?}: {run:?}");
        assert!(!run.stderr.contains("s3cr3t"), "{run:?}");
    }
    // A dry run reads no token, but the token file stays a credential.
    let run = import(
        &wd,
        &[
            "--dry-run",
            "--token-file",
            "token",
            "-o",
            "token",
            "--force",
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("the token file"), "{run:?}");
    for (name, before) in &read {
        assert_eq!(&bytes(&wd.path(name)), before, "{name} was changed");
    }

    // A hard link to the token file is the token file.
    #[cfg(unix)]
    {
        std::fs::hard_link(wd.path("token"), wd.path("copia")).unwrap();
        let run = import(&wd, &[&send[..], &["-o", "copia"]].concat());
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr
                .contains("--output copia would overwrite the token file"),
            "{run:?}"
        );
    }

    // Two outputs naming one file, however spelt, before either is written.
    let run = import(
        &wd,
        &["--dry-run", "-o", "r.csv", "--payloads", "./sub/../r.csv"],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("--output and --payloads both name ./sub/../r.csv"),
        "{run:?}"
    );
    let run = import(&wd, &["--dry-run", "-o", "r.csv", "--rejects", "r"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("--output and --rejects both name r.csv"),
        "{run:?}"
    );
    assert!(!wd.path("r.csv").exists());

    // And in Spanish.
    let run = import(
        &wd,
        &[
            "--dry-run",
            "-o",
            "expedientes.csv",
            "--force",
            "--lang",
            "es",
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "--output expedientes.csv sobrescribiría el archivo de consulta de [lookups.expedientes]"
        ),
        "{run:?}"
    );

    // The checks refuse only what they should: the same run with outputs
    // of its own is a clean dry run.
    let run = import(
        &wd,
        &[
            "--dry-run",
            "--token-file",
            "token",
            "-o",
            "r.csv",
            "--rejects",
            "rechazos",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(wd.path("r.csv").exists());
}

#[test]
fn a_request_time_limit_too_short_to_be_answered_is_refused() {
    let wd = Workdir::new();
    portfolio(&wd);
    for value in ["1ns", "0s", "99ms", "0.05"] {
        let run = import(
            &wd,
            &[
                "--server",
                SERVER,
                "--token-file",
                "token",
                "--timeout",
                value,
            ],
        );
        assert_eq!(run.code, 2, "{value}: {run:?}");
        assert!(
            run.stderr
                .contains(&format!("--timeout {value} is too short")),
            "{run:?}"
        );
        assert!(run.stderr.contains("at least 100ms"), "{run:?}");
        assert!(!wd.path("cartera.csv.results.csv").exists(), "{run:?}");
    }
    // The bound itself is a time limit like any other.
    let run = import(&wd, &["--dry-run", "--timeout", "100ms", "-o", "r.csv"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = wd.run(&["import", "--help"]);
    assert!(run.stdout.contains("at least 100ms, at most 1h"), "{run:?}");
}

/// A real run with `extra`, its token from `token_env` when given.
fn send_with(wd: &Workdir, extra: &[&str], token_env: Option<&str>) -> Run {
    let mut args = vec![
        "import",
        "cartera.csv",
        "--mapping",
        "m.toml",
        "--server",
        SERVER,
    ];
    args.extend_from_slice(extra);
    let mut cmd = wd.command(&args);
    if let Some(t) = token_env {
        cmd.env("WOLKVOX_TOKEN", t);
    }
    let run = common::Running::spawn(cmd).wait();
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    run
}

#[test]
fn token_files_and_values_no_token_holds_are_refused_without_printing_them() {
    let wd = Workdir::new();
    portfolio(&wd);
    let secret = "9f8e7d6c5b4a";
    let private = |name: &str, text: String| {
        let p = wd.write(name, text);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    };
    private("spaced", format!("{secret} {secret}\n"));
    private("dotenv", format!("WOLKVOX_TOKEN={secret}\n"));
    private("export", format!("export WOLKVOX_TOKEN=\"{secret}\"\n"));
    private("big", format!("{secret}\n").repeat(10_000));
    let cases = [
        ("spaced", "character 13 is a space"),
        ("dotenv", "write only the token"),
        ("export", "write only the token"),
        ("big", "larger than 64 KiB"),
    ];
    for (file, said) in cases {
        let run = send_with(&wd, &["--token-file", file], None);
        assert_eq!(run.code, 2, "{file}: {run:?}");
        assert!(run.stderr.contains(said), "{file}: {run:?}");
        assert!(
            run.stderr.contains(&format!("error: {file}: ")),
            "{file}: {run:?}"
        );
        assert!(!run.stderr.contains(secret), "{file}: {run:?}");
    }
    // The variable gets the same checks.
    for (value, said) in [
        (
            format!("{secret} {secret}"),
            "a character a token cannot have",
        ),
        (format!("WOLKVOX_TOKEN={secret}"), "write only the token"),
    ] {
        let run = send_with(&wd, &[], Some(&value));
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("error: WOLKVOX_TOKEN: "), "{run:?}");
        assert!(run.stderr.contains(said), "{run:?}");
        assert!(!run.stderr.contains(secret), "{run:?}");
    }
    // A device that never ends is refused after a bounded read, at once.
    for device in ["/dev/zero", "/dev/urandom"] {
        if !Path::new(device).exists() {
            continue;
        }
        let run = send_with(&wd, &["--token-file", device], None);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("larger than 64 KiB"), "{run:?}");
    }
    // A base64 token's padding is no assignment; nothing refuses it before
    // the server is tried (and cannot be reached).
    private("padded", format!("{secret}==\n"));
    let run = send_with(&wd, &["--token-file", "padded"], None);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("cannot reach the server"), "{run:?}");
    assert!(!run.stderr.contains("both WOLKVOX_TOKEN"), "{run:?}");

    // An empty variable is unset: no warning that both are set.
    let run = send_with(&wd, &["--token-file", "token"], Some(""));
    assert_eq!(run.code, 3, "{run:?}");
    assert!(!run.stderr.contains("both WOLKVOX_TOKEN"), "{run:?}");
    let run = send_with(&wd, &["--token-file", "token"], Some("another-token"));
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr
            .contains("both WOLKVOX_TOKEN and --token-file are set"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("another-token"), "{run:?}");
    assert!(!run.stderr.contains("s3cr3t-token-value"), "{run:?}");

    // In Spanish too, still without the token.
    let run = send_with(&wd, &["--token-file", "dotenv", "--lang", "es"], None);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("escriba solo el token"), "{run:?}");
    let run = send_with(&wd, &["--token-file", "spaced", "--lang", "es"], None);
    assert!(
        run.stderr.contains("el carácter 13 es un espacio"),
        "{run:?}"
    );
    assert!(!run.stderr.contains(secret), "{run:?}");
}

/// The binary run with `args`, its language from `--lang` or from `LANG`.
fn in_spanish(wd: &Workdir, args: &[&str], by_flag: bool) -> Run {
    let mut cmd = if by_flag {
        wd.command(&[args, &["--lang", "es"]].concat())
    } else {
        let mut c = wd.command(args);
        c.env("LANG", "es_CO.UTF-8");
        c
    };
    Run::from(cmd.output().unwrap())
}

#[test]
fn the_command_lines_own_errors_speak_spanish() {
    let wd = Workdir::new();
    portfolio(&wd);
    let import = ["import", "cartera.csv", "-m", "m.toml"];
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--timeout", "2h"],
            &[
                "error: valor no válido «2h» para «--timeout <TIMEOUT>»: --timeout 2h pasa de la 1h",
            ],
        ),
        (
            &["--timeout", "abc"],
            &["valor no válido «abc»", "\"abc\" no es una duración; escriba p. ej. 30s"],
        ),
        (
            &["--timeout", "0s"],
            &["--timeout 0s es demasiado corto: una petición necesita al menos 100ms"],
        ),
        (
            &["--rate", "5/x"],
            &["«--rate <RATE>»: --rate \"5/x\": escríbala como N/s o N/min"],
        ),
        (&["--rate", "0/s"], &["la tasa debe ser al menos 1"]),
        (
            &["--concurrency", "0"],
            &["«--concurrency <CONCURRENCY>»: 0 es menor que el mínimo, 1"],
        ),
        (&["--concurrency", "dos"], &["«dos»", "no es un número entero"]),
        (
            &["--mode", "insrt"],
            &[
                "valor no válido «insrt» para «--mode <MODE>»",
                "[valores posibles: insert, sync, update, upsert]",
                "consejo: existe un valor parecido: «insert»",
            ],
        ),
        (
            &["--forse"],
            &[
                "error: argumento inesperado «--forse»",
                "consejo: existe un argumento parecido: «--force»",
                "Uso: wolkvox-import import",
            ],
        ),
        (
            &["--dry-run", "--dry-run"],
            &["el argumento «--dry-run» no se puede usar más de una vez"],
        ),
    ];
    for by_flag in [true, false] {
        for (extra, said) in cases {
            let run = in_spanish(&wd, &[&import[..], extra].concat(), by_flag);
            assert_eq!(run.code, 2, "{extra:?}: {run:?}");
            for s in *said {
                assert!(run.stderr.contains(s), "{extra:?} lacks {s:?}: {run:?}");
            }
            assert!(
                run.stderr
                    .ends_with("\n\nPara más información, pruebe «--help».\n"),
                "{extra:?}: {run:?}"
            );
            for english in ["invalid value", "For more information", "Usage:", "tip:"] {
                assert!(!run.stderr.contains(english), "{extra:?}: {run:?}");
            }
            assert!(run.stdout.is_empty(), "{run:?}");
        }
        let run = in_spanish(&wd, &["import", "cartera.csv"], by_flag);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr.starts_with(
                "error: faltan estos argumentos obligatorios:\n  --mapping <MAPPING>\n\nUso: "
            ),
            "{run:?}"
        );
        let run = in_spanish(&wd, &["imprt", "cartera.csv"], by_flag);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr.contains("error: subcomando desconocido «imprt»")
                && run
                    .stderr
                    .contains("consejo: existe un subcomando parecido: «import»"),
            "{run:?}"
        );
        let run = in_spanish(&wd, &["mapping", "int", "cartera.csv"], by_flag);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr.contains("subcomando desconocido «int»"),
            "{run:?}"
        );
    }
    // --lang=es is --lang es; the flag wins over the locale.
    let run = wd.run(&[&import[..], &["--lang=es", "--timeout", "2h"]].concat());
    assert!(
        run.stderr.starts_with("error: valor no válido «2h»"),
        "{run:?}"
    );
    let run = Run::from(
        wd.command(&[&import[..], &["--lang", "en", "--timeout", "2h"]].concat())
            .env("LC_ALL", "es_ES.UTF-8")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.starts_with(
            "error: invalid value '2h' for '--timeout <TIMEOUT>': --timeout 2h is more than the 1h"
        ),
        "{run:?}"
    );
    assert!(
        run.stderr
            .ends_with("\n\nFor more information, try '--help'.\n"),
        "{run:?}"
    );

    // --help and --version are clap's own in every language, on stdout.
    for by_flag in [true, false] {
        let run = in_spanish(&wd, &["import", "--help"], by_flag);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains("Usage: wolkvox-import import"),
            "{run:?}"
        );
        assert!(run.stderr.is_empty(), "{run:?}");
        let run = in_spanish(&wd, &["--version"], by_flag);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.starts_with("wolkvox-import "), "{run:?}");
    }
}

#[test]
fn help_gives_every_default_on_a_line_of_its_own() {
    let wd = Workdir::new();
    let commands: &[&[&str]] = &[
        &[],
        &["import"],
        &["inspect"],
        &["mapping", "init"],
        &["ledger", "runs"],
        &["ledger", "export"],
        &["ledger", "check"],
        &["fake-crm"],
    ];
    for command in commands {
        let long = wd.run(&[command, &["--help"][..]].concat());
        assert_eq!(long.code, 0, "{long:?}");
        let lines: Vec<&str> = long.stdout.lines().collect();
        let mut defaults = 0;
        for (i, line) in lines.iter().enumerate() {
            if !line.contains("[default:") {
                continue;
            }
            defaults += 1;
            assert!(
                line.trim_start().starts_with("[default:") && lines[i - 1].trim().is_empty(),
                "{command:?}: a default inside a paragraph: {line:?}\n{}",
                long.stdout
            );
        }
        // --lang at least, everywhere.
        assert!(defaults > 0, "{command:?}: {}", long.stdout);
        // -h keeps them all, inline as clap writes its own there.
        let short = wd.run(&[command, &["-h"][..]].concat());
        assert_eq!(short.code, 0, "{short:?}");
        assert_eq!(
            short.stdout.matches("[default:").count(),
            defaults,
            "{command:?}: {}",
            short.stdout
        );
    }
    let help = wd.run(&["import", "--help"]).stdout;
    for default in [
        "[default: INPUT's name followed by .results.csv",
        "[default: no limit]",
        "[default: 30s]",
        "[default: from LC_ALL, LC_MESSAGES or LANG; else en]",
    ] {
        assert!(help.contains(default), "{default}: {help}");
    }
}

#[test]
fn workbooks_this_tool_wrote_are_its_own_on_the_next_run() {
    let wd = Workdir::new();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(repo.join("samples/cartera.xlsx"), wd.path("cartera.xlsx")).unwrap();
    std::fs::copy(repo.join("mappings/cartera.toml"), wd.path("m.toml")).unwrap();
    let dry_run = |extra: &[&str]| {
        let mut args = vec!["import", "cartera.xlsx", "-m", "m.toml", "--dry-run"];
        args.extend_from_slice(extra);
        wd.run(&args)
    };
    // The sample has invalid rows: exit 1, with rejects.
    for night in 1..=2 {
        let run = dry_run(&["-o", "resultados.xlsx", "--rejects", "rechazos"]);
        assert_eq!(run.code, 1, "night {night}: {run:?}");
    }
    assert!(wd.path("rechazos.xlsx").exists());
    // Each is still told from the other kind, and from someone's workbook.
    let run = dry_run(&["-o", "rechazos.xlsx"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is not a results file"), "{run:?}");
    let run = dry_run(&["--rejects", "resultados.xlsx"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is not a rejects file"), "{run:?}");
    std::fs::copy(wd.path("cartera.xlsx"), wd.path("otra.xlsx")).unwrap();
    let run = dry_run(&["-o", "otra.xlsx"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is not a results file"), "{run:?}");
    let run = dry_run(&["--rejects", "otra.xlsx"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        bytes(&wd.path("otra.xlsx")),
        bytes(&wd.path("cartera.xlsx"))
    );
}
