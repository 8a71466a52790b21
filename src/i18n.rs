//! Messages for people, in Spanish or English.
//!
//! Every sentence a person reads (errors, warnings, the summary, the
//! results file's `error` column, `inspect`, `mapping init`, the report)
//! comes from one Fluent catalog per language, `i18n/es/` and `i18n/en/`
//! (a file per part of the tool, the same files in both), compiled into the
//! binary. Fluent handles plurals ("1 fila",
//! "2 filas") and word order per language. What scripts read stays as it is
//! in every language: status values, the results file's columns, JSON log
//! field names and exit codes.
//!
//! The language is chosen once per process ([`set_language`]), before the
//! command line is parsed: `--lang`, else `LC_ALL`, `LC_MESSAGES` or `LANG`
//! (`es*` means Spanish), else English.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::borrow::Cow;
use std::sync::OnceLock;

/// A language of the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Lang {
    /// Español.
    Es,
    /// English.
    #[default]
    En,
}

impl Lang {
    /// The language a locale string names (`es_CO.UTF-8` → Spanish), if
    /// it is one of ours.
    pub fn from_locale(locale: &str) -> Option<Lang> {
        let l = locale.trim().to_ascii_lowercase();
        if l.is_empty() || l == "c" || l == "posix" {
            return None;
        }
        if l.starts_with("es") {
            Some(Lang::Es)
        } else if l.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// `--lang`, else the environment's locale, else English.
    pub fn detect(flag: Option<Lang>) -> Lang {
        flag.or_else(|| {
            // The first of these that is set decides, as for gettext.
            ["LC_ALL", "LC_MESSAGES", "LANG"]
                .iter()
                .filter_map(|v| std::env::var(v).ok())
                .find(|v| !v.is_empty())
                .map(|v| Lang::from_locale(&v).unwrap_or(Lang::En))
        })
        .unwrap_or_default()
    }

    /// The language's code: `en` or `es`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }
}

/// The catalog files, by name; each exists in both languages.
macro_rules! catalog {
    ($($name:literal),* $(,)?) => {
        /// Spanish, then English, file by file.
        const CATALOG: &[(&str, &str, &str)] = &[
            $(
                ($name, include_str!(concat!("../i18n/es/", $name, ".ftl")),
                        include_str!(concat!("../i18n/en/", $name, ".ftl"))),
            )*
        ];
    };
}

catalog![
    "common", "summary", "report", "crm", "ledger", "outputs", "run", "inspect", "init", "mapping",
    "rows", "source", "cli"
];

static LANGUAGE: OnceLock<Lang> = OnceLock::new();
static BUNDLES: OnceLock<[FluentBundle<FluentResource>; 2]> = OnceLock::new();

/// Chooses the language of this process's messages; the first call wins.
pub fn set_language(lang: Lang) {
    let _ = LANGUAGE.set(lang);
}

/// The language of this process's messages.
pub fn language() -> Lang {
    LANGUAGE.get().copied().unwrap_or_default()
}

fn bundle(lang: Lang) -> FluentBundle<FluentResource> {
    let id = lang.code().parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // Terminals and CSV cells, not bidirectional text: no isolation marks.
    b.set_use_isolating(false);
    for (_, es, en) in CATALOG {
        let text = match lang {
            Lang::Es => es,
            Lang::En => en,
        };
        let res = FluentResource::try_new(text.to_string()).unwrap_or_else(|(res, _)| res);
        let _ = b.add_resource(res);
    }
    b
}

fn bundles() -> &'static [FluentBundle<FluentResource>; 2] {
    BUNDLES.get_or_init(|| [bundle(Lang::Es), bundle(Lang::En)])
}

/// A message in the current language.
pub fn t(key: &str) -> String {
    t_in(language(), key, None)
}

/// A message with arguments in the current language.
pub fn t_args(key: &str, args: &FluentArgs<'_>) -> String {
    t_in(language(), key, Some(args))
}

/// A message in a given language. A key missing from the catalog (which the
/// catalog tests prevent) shows as the key itself rather than failing.
pub fn t_in(lang: Lang, key: &str, args: Option<&FluentArgs<'_>>) -> String {
    let b = &bundles()[match lang {
        Lang::Es => 0,
        Lang::En => 1,
    }];
    let Some(pattern) = b.get_message(key).and_then(|m| m.value()) else {
        return key.to_string();
    };
    let mut errors = Vec::new();
    let text: Cow<'_, str> = b.format_pattern(pattern, args, &mut errors);
    text.into_owned()
}

/// Turns a number or text into a message argument.
pub fn arg<'a>(v: impl Into<FluentValue<'a>>) -> FluentValue<'a> {
    v.into()
}

/// `tr!("key")` or `tr!("key", name = value, ...)`: a message in the current
/// language. Values may be numbers (plurals select on them) or text.
#[macro_export]
macro_rules! tr {
    ($key:expr) => {
        $crate::i18n::t($key)
    };
    ($key:expr, $($name:ident = $value:expr),+ $(,)?) => {{
        let mut args = ::fluent_bundle::FluentArgs::new();
        $( args.set(stringify!($name), $crate::i18n::arg($value)); )+
        $crate::i18n::t_args($key, &args)
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ids(text: &str) -> BTreeSet<String> {
        let res = FluentResource::try_new(text.to_string()).unwrap_or_else(|(_, errors)| {
            panic!("the catalog does not parse: {errors:?}");
        });
        res.entries()
            .filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
                _ => None,
            })
            .collect()
    }

    fn all_ids(pick: fn(&(&str, &'static str, &'static str)) -> &'static str) -> BTreeSet<String> {
        CATALOG.iter().flat_map(|f| ids(pick(f))).collect()
    }

    #[test]
    fn both_catalogs_parse_and_hold_the_same_keys_file_by_file() {
        for (name, es, en) in CATALOG {
            let (es, en) = (ids(es), ids(en));
            let only_es: Vec<_> = es.difference(&en).collect();
            let only_en: Vec<_> = en.difference(&es).collect();
            assert!(
                only_es.is_empty() && only_en.is_empty(),
                "{name}.ftl: keys in es only: {only_es:?}; keys in en only: {only_en:?}"
            );
            assert!(!es.is_empty(), "{name}.ftl is empty");
        }
        // Every file on disk is compiled in.
        for lang in ["es", "en"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("i18n")
                .join(lang);
            for entry in std::fs::read_dir(&dir).unwrap() {
                let name = entry.unwrap().path();
                let stem = name.file_stem().unwrap().to_string_lossy().into_owned();
                assert!(
                    CATALOG.iter().any(|(n, _, _)| *n == stem),
                    "{} is not in the catalog! list of src/i18n.rs",
                    name.display()
                );
            }
        }
    }

    /// Every `tr!("key"` in the source names a key both catalogs have.
    #[test]
    fn every_key_the_code_uses_is_in_both_catalogs() {
        let es = all_ids(|f| f.1);
        let en = all_ids(|f| f.2);
        let mut missing = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                if p.extension().and_then(|e| e.to_str()) != Some("rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, _) in text.match_indices("tr!(\"") {
                    // Not the tail of another macro (`include_str!(`).
                    let before = text[..i].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    let rest = &text[i + 5..];
                    let key = &rest[..rest.find('"').unwrap_or(0)];
                    if key.is_empty() || key == "key" {
                        continue;
                    }
                    if !es.contains(key) || !en.contains(key) {
                        missing.push(format!("{}: {key}", p.display()));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from a catalog: {missing:?}"
        );
    }

    #[test]
    fn locales_choose_the_language() {
        assert_eq!(Lang::from_locale("es_CO.UTF-8"), Some(Lang::Es));
        assert_eq!(Lang::from_locale("es"), Some(Lang::Es));
        assert_eq!(Lang::from_locale("en_US.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::from_locale("C.UTF-8"), None);
        assert_eq!(Lang::from_locale("pt_BR"), None);
        assert_eq!(Lang::detect(Some(Lang::Es)), Lang::Es);
    }

    #[test]
    fn plurals_follow_each_language() {
        let n = |lang, count: u64| {
            let mut a = FluentArgs::new();
            a.set("count", count);
            t_in(lang, "rows-count", Some(&a))
        };
        assert_eq!(n(Lang::Es, 1), "1 fila");
        assert_eq!(n(Lang::Es, 3), "3 filas");
        assert_eq!(n(Lang::En, 1), "1 row");
        assert_eq!(n(Lang::En, 3), "3 rows");
    }
}
