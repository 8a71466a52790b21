//! Reading the command line, in the user's language.
//!
//! The language is chosen before clap parses: clap runs the value checks
//! (`--timeout`, `--rate`) while it parses, and they speak through the
//! catalogs. It comes from `--lang` as written among the arguments, else
//! the locale ([`Lang::detect`]). In Spanish, clap's own errors of the
//! common kinds (an invalid value, a missing or unknown argument, an
//! unknown subcommand) are worded through the catalogs too; English keeps
//! clap's words, which the `en` catalog repeats so that a test can hold the
//! two renderings side by side. The exit code stays clap's 2, and `--help`
//! and `--version` are clap's own.

use super::Cli;
use clap::builder::styling::Style;
use clap::builder::{StyledStr, Styles};
use clap::error::{ContextKind, ContextValue, ErrorFormatter, ErrorKind};
use clap::{CommandFactory, FromArgMatches, ValueEnum};
use std::ffi::OsString;
use wolkvox_import::i18n::{set_language, Lang};
use wolkvox_import::tr;

/// The command line's definition.
pub fn command() -> clap::Command {
    defaults_on_their_own_line(real_ledger_default(Cli::command()))
}

/// The Linux spelling of the ledger's default place, as the doc comments
/// give it.
const LEDGER_EXAMPLE: &str = "e.g. ~/.local/state/wolkvox-import/ledger.sqlite";

/// `--ledger`'s default as this machine and user have it (the state folder
/// moves with `XDG_STATE_HOME`, and is elsewhere on Windows and macOS), in
/// place of the example the doc comments give.
fn real_ledger_default(cmd: clap::Command) -> clap::Command {
    let Some(path) = wolkvox_import::ledger::default_path() else {
        return cmd;
    };
    let real = path.display().to_string();
    let cmd = cmd.mut_args(|arg| {
        if arg.get_id() != "ledger" {
            return arg;
        }
        match arg.get_help().map(ToString::to_string) {
            Some(help) if help.contains(LEDGER_EXAMPLE) => {
                arg.help(help.replace(LEDGER_EXAMPLE, &real))
            }
            _ => arg,
        }
    });
    cmd.mut_subcommands(real_ledger_default)
}

/// Moves a `[default: …]` written by hand in an option's doc comment (a
/// default clap cannot know: "no limit", "the first sheet") to a line of
/// its own at the end of `--help`, where clap puts the defaults it knows;
/// `-h` keeps it inline, as clap does there.
fn defaults_on_their_own_line(cmd: clap::Command) -> clap::Command {
    let cmd = cmd.mut_args(|arg| {
        let Some(help) = arg.get_help().map(ToString::to_string) else {
            return arg;
        };
        let Some(default) = written_default(&help) else {
            return arg;
        };
        let long = arg
            .get_long_help()
            .map_or_else(|| help.clone(), ToString::to_string)
            .replacen(&format!(" {default}"), "", 1);
        let long = format!("{}\n\n{default}", long.trim_end());
        arg.long_help(long)
    });
    cmd.mut_subcommands(defaults_on_their_own_line)
}

/// The `[default: …]` in a help text.
fn written_default(help: &str) -> Option<&str> {
    let start = help.find("[default: ")?;
    let len = help[start..].find(']')? + 1;
    Some(&help[start..start + len])
}

/// Parses the process's arguments, or prints why they cannot be used and
/// exits (2; 0 for `--help` and `--version`).
pub fn parse() -> Cli {
    let lang = Lang::detect(lang_in_args(std::env::args_os().skip(1)));
    set_language(lang);
    match parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) if lang == Lang::Es && in_catalog(e.kind()) => e.apply::<Catalog>().exit(),
        Err(e) => e.exit(),
    }
}

fn parse_from(args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
    let mut matches = command().try_get_matches_from(args)?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut command()))
}

/// `--lang es`, `--lang=es`, anywhere before a `--`; `None` when absent or
/// not a language of ours (clap then says so, in the locale's language).
fn lang_in_args(args: impl IntoIterator<Item = OsString>) -> Option<Lang> {
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = match arg.to_str() {
            Some("--") => return None,
            Some("--lang") => args.next(),
            Some(a) => a.strip_prefix("--lang=").map(OsString::from),
            None => None,
        };
        if let Some(lang) = value
            .as_ref()
            .and_then(|v| v.to_str())
            .and_then(|v| Lang::from_str(v, false).ok())
        {
            return Some(lang);
        }
    }
    None
}

/// The kinds of error [`Catalog`] words.
fn in_catalog(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::InvalidValue
            | ErrorKind::ValueValidation
            | ErrorKind::MissingRequiredArgument
            | ErrorKind::UnknownArgument
            | ErrorKind::InvalidSubcommand
            | ErrorKind::MissingSubcommand
            | ErrorKind::ArgumentConflict
    )
}

/// Words clap's errors through the catalogs, laid out as clap lays them
/// out (a headline, tips, the usage, where to find help).
struct Catalog;

/// What clap indents lists and tips by.
const TAB: &str = "  ";

fn paint(style: &Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

impl ErrorFormatter for Catalog {
    fn format_error(e: &clap::error::Error<Self>) -> StyledStr {
        let styles = Styles::default();
        let valid = styles.get_valid();
        let mut out = format!("{} ", paint(styles.get_error(), &tr!("cli-error")));
        out.push_str(&headline(e, &styles).unwrap_or_else(|| fallback(e)));

        let mut suggested = false;
        for (kind, one, many) in [
            (
                ContextKind::SuggestedSubcommand,
                "cli-similar-subcommand",
                "cli-similar-subcommands",
            ),
            (
                ContextKind::SuggestedArg,
                "cli-similar-argument",
                "cli-similar-arguments",
            ),
            (
                ContextKind::SuggestedValue,
                "cli-similar-value",
                "cli-similar-values",
            ),
        ] {
            let names: Vec<&str> = match e.get(kind) {
                Some(ContextValue::String(s)) => vec![s.as_str()],
                Some(ContextValue::Strings(v)) => v.iter().map(String::as_str).collect(),
                _ => continue,
            };
            out.push('\n');
            if !suggested {
                out.push('\n');
                suggested = true;
            }
            let list: Vec<String> = names
                .iter()
                .map(|n| tr!("cli-quoted", text = paint(valid, n)))
                .collect();
            let text = tr!(
                if names.len() == 1 { one } else { many },
                list = list.join(", ")
            );
            out.push_str(&format!("{TAB}{} {text}", paint(valid, &tr!("cli-tip"))));
        }
        if let Some(ContextValue::StyledStrs(tips)) = e.get(ContextKind::Suggested) {
            if !suggested {
                out.push('\n');
            }
            for tip in tips {
                let tip = translate_tip(tip, &styles);
                out.push_str(&format!("\n{TAB}{} {tip}", paint(valid, &tr!("cli-tip"))));
            }
        }
        if let Some(ContextValue::StyledStr(usage)) = e.get(ContextKind::Usage) {
            // "Usage:" is clap's heading; the rest is the command's own.
            let usage = usage.ansi().to_string();
            let usage = usage.replacen("Usage:", &tr!("cli-usage"), 1);
            out.push_str(&format!("\n\n{usage}"));
        }
        let help = paint(styles.get_literal(), "--help");
        out.push_str(&format!("\n\n{}\n", tr!("cli-more-info", help = help)));
        StyledStr::from(out)
    }
}

/// The first line (or lines) of the message, by kind; `None` when clap
/// left out the context it needs.
fn headline(e: &clap::error::Error<Catalog>, styles: &Styles) -> Option<String> {
    let said = Recorded { error: e, styles };
    Some(match e.kind() {
        ErrorKind::InvalidValue => invalid_value(&said)?,
        ErrorKind::ValueValidation => refused_value(&said)?,
        ErrorKind::MissingRequiredArgument => missing_arguments(&said)?,
        ErrorKind::UnknownArgument => tr!(
            "cli-unknown-argument",
            arg = said.invalid(said.string(ContextKind::InvalidArg)?)
        ),
        ErrorKind::InvalidSubcommand => tr!(
            "cli-invalid-subcommand",
            name = said.invalid(said.string(ContextKind::InvalidSubcommand)?)
        ),
        ErrorKind::MissingSubcommand => missing_subcommand(&said)?,
        ErrorKind::ArgumentConflict => conflict(&said)?,
        _ => return None,
    })
}

/// What clap recorded about an error, and the styles to paint it in.
struct Recorded<'a> {
    error: &'a clap::error::Error<Catalog>,
    styles: &'a Styles,
}

impl<'a> Recorded<'a> {
    fn string(&self, kind: ContextKind) -> Option<&'a str> {
        match self.error.get(kind) {
            Some(ContextValue::String(s)) => Some(s.as_str()),
            _ => None,
        }
    }

    fn strings(&self, kind: ContextKind) -> Option<&'a [String]> {
        match self.error.get(kind) {
            Some(ContextValue::Strings(v)) => Some(v.as_slice()),
            _ => None,
        }
    }

    fn invalid(&self, text: &str) -> String {
        paint(self.styles.get_invalid(), text)
    }

    fn literal(&self, text: &str) -> String {
        paint(self.styles.get_literal(), text)
    }

    fn valid(&self, text: &str) -> String {
        paint(self.styles.get_valid(), text)
    }

    /// The values clap offers under `kind`, as an indented `[name: …]`
    /// line; nothing when it offers none.
    fn values_list(&self, name: &str, kind: ContextKind) -> String {
        match self.strings(kind) {
            Some(v) if !v.is_empty() => {
                let v: Vec<String> = v.iter().map(|s| self.valid(&escape(s))).collect();
                format!("\n{TAB}[{name}: {}]", v.join(", "))
            }
            _ => String::new(),
        }
    }
}

/// A value outside the ones an option takes (or an empty one), with the
/// values it does take.
fn invalid_value(said: &Recorded) -> Option<String> {
    let arg = said.string(ContextKind::InvalidArg)?;
    let value = said.string(ContextKind::InvalidValue)?;
    let mut text = if value.is_empty() {
        tr!("cli-empty-value", arg = said.invalid(arg))
    } else {
        tr!(
            "cli-invalid-value",
            value = said.invalid(value),
            arg = said.literal(arg)
        )
    };
    text.push_str(&said.values_list(&tr!("cli-possible-values"), ContextKind::ValidValue));
    Some(text)
}

/// A value an option's own check refused, with the check's reason.
fn refused_value(said: &Recorded) -> Option<String> {
    let arg = said.literal(said.string(ContextKind::InvalidArg)?);
    let value = said.invalid(said.string(ContextKind::InvalidValue)?);
    let mut text = tr!("cli-invalid-value", value = value, arg = arg);
    if let Some(why) = std::error::Error::source(said.error) {
        text.push_str(&format!(": {}", why_value_is_refused(why)));
    }
    Some(text)
}

/// The required arguments left out, one a line.
fn missing_arguments(said: &Recorded) -> Option<String> {
    let mut text = tr!("cli-missing-arguments");
    for arg in said.strings(ContextKind::InvalidArg)? {
        text.push_str(&format!("\n{TAB}{}", said.valid(arg)));
    }
    Some(text)
}

/// A command that needs a subcommand, with the subcommands it has.
fn missing_subcommand(said: &Recorded) -> Option<String> {
    let name = said.invalid(said.string(ContextKind::InvalidSubcommand)?);
    let mut text = tr!("cli-missing-subcommand", name = name);
    text.push_str(&said.values_list(&tr!("cli-subcommands"), ContextKind::ValidSubcommand));
    Some(text)
}

/// An argument given twice, or beside one it cannot go with.
fn conflict(said: &Recorded) -> Option<String> {
    let arg = said.string(ContextKind::InvalidArg)?;
    let prior = said.error.get(ContextKind::PriorArg);
    if prior == Some(&ContextValue::String(arg.to_string())) {
        return Some(tr!("cli-used-twice", arg = said.invalid(arg)));
    }
    let mut text = tr!("cli-conflict", arg = said.invalid(arg));
    match prior {
        Some(ContextValue::Strings(others)) => {
            text.push(':');
            for other in others {
                text.push_str(&format!("\n{TAB}{}", said.invalid(other)));
            }
        }
        Some(ContextValue::String(other)) => text.push_str(&format!(
            " {}",
            tr!("cli-quoted", text = said.invalid(other))
        )),
        _ => text.push_str(&format!(" {}", tr!("cli-conflict-others"))),
    }
    Some(text)
}

/// What clap itself would say, for an error without the context above.
fn fallback(e: &clap::error::Error<Catalog>) -> String {
    match (e.kind().as_str(), std::error::Error::source(e)) {
        (Some(text), _) => text.to_string(),
        (None, Some(why)) => why.to_string(),
        (None, None) => String::new(),
    }
}

/// clap quotes a listed value that has blanks in it.
fn escape(value: &str) -> String {
    if value.contains(char::is_whitespace) {
        format!("{value:?}")
    } else {
        value.to_string()
    }
}

/// Why a value was refused. The checks of this tool already speak the
/// chosen language; the standard library's and clap's range checks are
/// worded through the catalogs; anything else is shown as it is.
fn why_value_is_refused(why: &(dyn std::error::Error + 'static)) -> String {
    use std::num::IntErrorKind;
    if let Some(e) = why.downcast_ref::<std::num::ParseIntError>() {
        return match e.kind() {
            IntErrorKind::Empty => tr!("cli-int-empty"),
            IntErrorKind::InvalidDigit => tr!("cli-int-invalid"),
            IntErrorKind::PosOverflow => tr!("cli-int-too-big"),
            IntErrorKind::NegOverflow => tr!("cli-int-too-small"),
            _ => e.to_string(),
        };
    }
    if why.is::<std::num::TryFromIntError>() {
        return tr!("cli-int-conversion");
    }
    if why.is::<std::num::ParseFloatError>() {
        return tr!("cli-float-invalid");
    }
    if why.is::<std::net::AddrParseError>() {
        return tr!("cli-address-invalid");
    }
    let text = why.to_string();
    out_of_range(&text).unwrap_or(text)
}

/// clap's range check: "0 is not in 1..=256", or "0 is not in
/// 1..9223372036854775807" when there is no upper bound. The value is said
/// to be under the least or over the most, whichever it is.
fn out_of_range(text: &str) -> Option<String> {
    let (value, range) = text.split_once(" is not in ")?;
    let (min, max) = range.split_once("..")?;
    let number: i128 = value.parse().ok()?;
    let min: i128 = min.parse().ok()?;
    let (max, inclusive) = match max.strip_prefix('=') {
        Some(m) => (m, true),
        None => (max, false),
    };
    let max: i128 = max.parse().ok()?;
    let max = if inclusive { max } else { max - 1 };
    let (value, range) = (value.to_string(), range.to_string());
    Some(if number < min {
        tr!(
            "cli-below-minimum",
            value = value,
            range = range,
            min = min.to_string()
        )
    } else {
        tr!(
            "cli-above-maximum",
            value = value,
            range = range,
            max = max.to_string()
        )
    })
}

/// The tips clap writes in English: "to pass '-x' as a value, use '-- -x'"
/// and "'import --sheet' exists".
fn translate_tip(tip: &StyledStr, styles: &Styles) -> String {
    let plain = tip.to_string();
    let quoted = |s: &str| s.strip_prefix('\'')?.strip_suffix('\'').map(str::to_string);
    if let Some((arg, fix)) = plain
        .strip_prefix("to pass ")
        .and_then(|rest| rest.split_once(" as a value, use "))
    {
        if let (Some(arg), Some(fix)) = (quoted(arg), quoted(fix)) {
            return tr!(
                "cli-pass-as-value",
                arg = paint(styles.get_invalid(), &arg),
                fix = paint(styles.get_valid(), &fix)
            );
        }
    }
    if let Some(what) = plain.strip_suffix(" exists").and_then(quoted) {
        return tr!("cli-exists", what = paint(styles.get_valid(), &what));
    }
    tip.ansi().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<OsString> {
        line.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn the_language_is_found_among_the_arguments() {
        let lang = |line: &str| lang_in_args(args(line));
        assert_eq!(lang("import a.csv -m m.toml --lang es"), Some(Lang::Es));
        assert_eq!(lang("--lang=en import a.csv"), Some(Lang::En));
        assert_eq!(lang("import --lang xx --lang es"), Some(Lang::Es));
        assert_eq!(lang("import a.csv --lang"), None);
        assert_eq!(lang("import a.csv -- --lang es"), None);
        assert_eq!(lang("import a.csv --sheet lang"), None);
    }

    /// The catalog's English is clap's English: the layout the Spanish
    /// messages follow is clap's, kind by kind.
    #[test]
    fn in_english_the_catalog_says_what_clap_says() {
        let lines = [
            "wolkvox-import import a.csv -m m.toml --timeout 2h",
            "wolkvox-import import a.csv -m m.toml --timeout abc",
            "wolkvox-import import a.csv -m m.toml --rate 5/x",
            "wolkvox-import import a.csv -m m.toml --concurrency 0",
            "wolkvox-import import a.csv -m m.toml --concurrency x",
            "wolkvox-import import a.csv -m m.toml --concurrency 99999999999999999999",
            "wolkvox-import import a.csv -m m.toml --breaker 0",
            "wolkvox-import import a.csv -m m.toml --breaker 99999999999",
            "wolkvox-import import a.csv -m m.toml --mode insrt",
            "wolkvox-import import a.csv -m m.toml --mode nothing",
            "wolkvox-import import a.csv -m m.toml --forse",
            "wolkvox-import import a.csv -m m.toml --bogus",
            "wolkvox-import import a.csv -m m.toml -5",
            "wolkvox-import import a.csv -m m.toml --dry-run --dry-run",
            "wolkvox-import import a.csv -m m.toml --sheet a --sheet b",
            "wolkvox-import import a.csv",
            "wolkvox-import import",
            "wolkvox-import imprt a.csv",
            "wolkvox-import zzz",
            "wolkvox-import mapping --lang en",
            "wolkvox-import mapping int a.csv",
            "wolkvox-import inspect a.csv --header-row 0",
            "wolkvox-import fake-crm --listen nowhere",
            "wolkvox-import fake-crm --latency soon",
            "wolkvox-import ledger runs --limit -1",
            "wolkvox-import --lang xx import a.csv -m m.toml",
            "wolkvox-import import a.csv -m m.toml --lang",
        ];
        let mut seen = std::collections::BTreeSet::new();
        for line in lines {
            let clap_says = parse_from(args(line)).unwrap_err();
            seen.insert(format!("{:?}", clap_says.kind()));
            if !in_catalog(clap_says.kind()) {
                continue;
            }
            let ours = parse_from(args(line)).unwrap_err().apply::<Catalog>();
            assert_eq!(
                ours.render().to_string(),
                clap_says.render().to_string(),
                "{line}"
            );
        }
        // Every kind the catalog words was held side by side.
        for kind in [
            "InvalidValue",
            "ValueValidation",
            "MissingRequiredArgument",
            "UnknownArgument",
            "InvalidSubcommand",
            "MissingSubcommand",
            "ArgumentConflict",
        ] {
            assert!(seen.contains(kind), "{kind} not tried: {seen:?}");
        }
    }
}
