//! The mapping file as written by a person: TOML, parsed strictly.
//!
//! Every table denies unknown keys, so a typo (`colum = "Saldo"`) is an
//! error that names the key, its line and the nearest valid key, rather than
//! a setting silently ignored on a file worth real money.

use crate::tr;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// A mapping file, parsed but not yet checked against an input's header.
#[derive(Debug, Clone, Default)]
pub struct MappingFile {
    pub source: SourceSection,
    pub request: RequestSection,
    pub fields: FieldsSection,
    pub form: FormSection,
    /// `[lookups.NAME]` tables, by name.
    pub lookups: BTreeMap<String, LookupSection>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSection {
    pub sheet: Option<String>,
    pub header_row: Option<i64>,
    pub delimiter: Option<String>,
    pub encoding: Option<String>,
    pub decimal_separator: Option<String>,
    pub date_formats: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSection {
    pub operation: Option<String>,
    pub date_format: Option<String>,
}

/// The API's fields, in the order the API documents them.
#[derive(Debug, Clone, Default)]
pub struct FieldsSection {
    pub wolkvox_id: Option<FieldSpec>,
    pub id: Option<FieldSpec>,
    pub name: Option<FieldSpec>,
    pub total_balance: Option<FieldSpec>,
    pub portfolio_type: Option<FieldSpec>,
    pub last_pay: Option<FieldSpec>,
    pub last_pay_date: Option<FieldSpec>,
    pub expiring_date: Option<FieldSpec>,
    pub days_delay: Option<FieldSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormSection {
    pub extra_columns: Option<ExtraColumns>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// `[form.entries]`: form entries written like fields, in the order the
    /// file lists them.
    #[serde(default)]
    pub entries: FormEntries,
}

/// `[form.entries]`: `"Name sent in form" = "Column"` or a field table. A
/// list, not a map, because the entries are sent in the order written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormEntries(pub Vec<(String, FieldSpec)>);

impl<'de> Deserialize<'de> for FormEntries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FormEntries;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(&tr!("mapping-expect-form-entries"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // The parser hands a table's keys over sorted by name; where
                // each value sat in the file gives back the written order.
                let mut entries = Vec::new();
                while let Some((name, spec)) =
                    map.next_entry::<String, toml::Spanned<FieldSpecOrColumn>>()?
                {
                    entries.push((spec.span().start, name, spec.into_inner().0));
                }
                entries.sort_by_key(|(at, _, _)| *at);
                Ok(FormEntries(
                    entries
                        .into_iter()
                        .map(|(_, name, spec)| (name, spec))
                        .collect(),
                ))
            }
        }
        d.deserialize_map(V)
    }
}

/// `[lookups.NAME]`: a second file that maps a key column to a value column.
/// The reading options are those of `[source]`, for that file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupSection {
    /// Relative to the mapping file's folder.
    pub file: String,
    pub key: String,
    pub value: String,
    #[serde(default)]
    pub normalize: Normalize,
    #[serde(default)]
    pub duplicates: Duplicates,
    pub sheet: Option<String>,
    pub header_row: Option<i64>,
    pub delimiter: Option<String>,
    pub encoding: Option<String>,
    pub decimal_separator: Option<String>,
    pub date_formats: Option<Vec<String>>,
}

impl LookupSection {
    /// Its reading options, shaped as `[source]` so one check serves both.
    pub fn source(&self) -> SourceSection {
        SourceSection {
            sheet: self.sheet.clone(),
            header_row: self.header_row,
            delimiter: self.delimiter.clone(),
            encoding: self.encoding.clone(),
            decimal_separator: self.decimal_separator.clone(),
            date_formats: self.date_formats.clone(),
        }
    }
}

/// How keys are compared, on both sides of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Normalize {
    /// As written, after trimming spaces.
    #[default]
    Exact,
    /// Only the digits 0-9, leading zeros dropped: `1.020.345.678`,
    /// `1020345678` and `001020345678` are one key.
    Digits,
    /// Trimmed and lower case: `ABC-12` and `abc-12` are one key.
    Casefold,
}

/// What a key that appears twice with different values means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Duplicates {
    /// The file is refused before any row is read, naming both rows.
    #[default]
    Error,
    /// The first row with the key wins.
    First,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtraColumns {
    #[default]
    All,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    #[default]
    Text,
    Number,
    Integer,
    Date,
}

/// One API field: `"Column name"` or a table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub column: Option<String>,
    pub value: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: FieldType,
    pub default: Option<String>,
    pub required: Option<bool>,
    pub formats: Option<Vec<String>>,
    /// The name of a `[lookups.NAME]` table: the column's cell is its key.
    pub lookup: Option<String>,
}

/// `FieldSpec` accepts a bare string as shorthand for `{ column = "..." }`.
/// Written by hand because `#[serde(untagged)]` would swallow the precise
/// error of a misspelled key inside the table.
impl<'de> Deserialize<'de> for FieldSpecOrColumn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FieldSpecOrColumn;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(&tr!("mapping-expect-field"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(FieldSpecOrColumn(FieldSpec {
                    column: Some(v.to_string()),
                    ..FieldSpec::default()
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                FieldSpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(FieldSpecOrColumn)
            }
        }
        d.deserialize_any(V)
    }
}

/// Wrapper that carries the string-or-table deserialisation.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpecOrColumn(pub FieldSpec);

// The sections hold `FieldSpec`, deserialised through the wrapper.
impl FieldSpec {
    fn from_wrapper<'de, D: Deserializer<'de>>(d: D) -> Result<Option<FieldSpec>, D::Error> {
        Option::<FieldSpecOrColumn>::deserialize(d).map(|o| o.map(|w| w.0))
    }
}

/// Parses the text of a mapping file. The error shows where, as the TOML
/// reader draws it (the line, and a caret under the key), then what, in the
/// user's language, and a suggestion when the problem is an unknown key.
pub fn parse(text: &str) -> Result<MappingFile, String> {
    let file: RawMappingFile = toml::from_str(text).map_err(|e| explain(&e, text))?;
    Ok(file.into())
}

fn explain(e: &toml::de::Error, text: &str) -> String {
    let problem = TomlProblem::read(e.message());
    let mut msg = match e.span() {
        Some(span) => location(text, span),
        None => String::new(),
    };
    msg.push_str(&problem.to_string());
    if let Some(hint) = problem.hint() {
        msg.push('\n');
        msg.push_str(&hint);
    }
    msg
}

/// Where the reader stopped, drawn as the TOML reader draws it:
///
/// ```text
/// TOML parse error at line 3, column 1
///   |
/// 3 | headr_row = 2
///   | ^^^^^^^^^
/// ```
fn location(text: &str, span: std::ops::Range<usize>) -> String {
    let bytes = text.as_bytes();
    let index = span.start.min(bytes.len().saturating_sub(1));
    let line_start = bytes[..index]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |nl| nl + 1);
    let line = bytes[..line_start].iter().filter(|&&b| b == b'\n').count();
    // Columns count characters; past the end of the text, one more each.
    let column = text
        .get(line_start..=index)
        .map_or(index - line_start, |s| s.chars().count() - 1)
        + (span.start - index);
    let content = text.split('\n').nth(line).unwrap_or("");
    let width = (span.end - span.start)
        .min(content.len().saturating_sub(column))
        .max(1);
    let number = (line + 1).to_string();
    let gutter = " ".repeat(number.len() + 1);
    let at = tr!("mapping-toml-at", line = line + 1, column = column + 1);
    format!(
        "{at}\n{gutter}|\n{number} | {content}\n{gutter}|{} {}\n",
        " ".repeat(column),
        "^".repeat(width)
    )
}

/// What the TOML reader found wrong. Its messages are serde's and the
/// parser's, in fixed English formats (`unknown field `x`, expected one of
/// `a`, `b``); they are read into parts once, here, so that they can be said
/// in the user's language. What is not recognised is shown as written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TomlProblem {
    UnknownKey {
        key: String,
        expected: Vec<String>,
    },
    UnknownValue {
        value: String,
        expected: Vec<String>,
    },
    MissingKey(String),
    WrongType {
        found: String,
        expected: String,
    },
    DuplicateKey,
    Other(String),
}

impl TomlProblem {
    fn read(message: &str) -> TomlProblem {
        // `key`, expected `a`, `b` → the key and the backquoted names.
        let named = |rest: &str| -> Option<(String, Vec<String>)> {
            let (name, expected) = rest.split_once("`, expected ")?;
            let list: Vec<String> = expected
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect();
            (!list.is_empty()).then(|| (name.to_string(), list))
        };
        let other = || TomlProblem::Other(message.to_string());
        if let Some(rest) = message.strip_prefix("unknown field `") {
            return named(rest).map_or_else(other, |(key, expected)| TomlProblem::UnknownKey {
                key,
                expected,
            });
        }
        if let Some(rest) = message.strip_prefix("unknown variant `") {
            return named(rest).map_or_else(other, |(value, expected)| TomlProblem::UnknownValue {
                value,
                expected,
            });
        }
        if let Some(key) = message
            .strip_prefix("missing field `")
            .and_then(|r| r.strip_suffix('`'))
        {
            return TomlProblem::MissingKey(key.to_string());
        }
        if let Some((found, expected)) = message
            .strip_prefix("invalid type: ")
            .and_then(|r| r.rsplit_once(", expected "))
        {
            return TomlProblem::WrongType {
                found: found.to_string(),
                expected: expected.to_string(),
            };
        }
        if message == "duplicate key" {
            return TomlProblem::DuplicateKey;
        }
        other()
    }

    /// "did you mean …?" for a misspelled key.
    fn hint(&self) -> Option<String> {
        let TomlProblem::UnknownKey { key, expected } = self else {
            return None;
        };
        let best = crate::mapping::suggest::nearest(key, expected.iter().map(String::as_str))?;
        Some(tr!(
            "mapping-toml-did-you-mean",
            suggestion = best,
            key = key.as_str()
        ))
    }
}

/// A list of names as serde lists them: one, two, or "one of" many.
fn choices(key: &str, name: &str, value: &str, expected: &[String]) -> String {
    let list = expected
        .iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let first = expected.first().map_or("", String::as_str);
    let second = expected.get(1).map_or("", String::as_str);
    let mut args = fluent_bundle::FluentArgs::new();
    args.set(name, value);
    args.set("count", expected.len());
    args.set("first", first);
    args.set("second", second);
    args.set("list", list);
    crate::i18n::t_args(key, &args)
}

/// What serde calls the value it found (`string "two"`, `integer `3``).
fn found_value(found: &str) -> String {
    let kinds = [
        ("string ", "mapping-toml-found-string"),
        ("integer ", "mapping-toml-found-integer"),
        ("floating point ", "mapping-toml-found-float"),
        ("boolean ", "mapping-toml-found-boolean"),
    ];
    for (prefix, key) in kinds {
        if let Some(value) = found.strip_prefix(prefix) {
            return tr!(key, value = value);
        }
    }
    match found {
        "sequence" => tr!("mapping-toml-found-sequence"),
        "map" => tr!("mapping-toml-found-map"),
        other => other.to_string(),
    }
}

/// What serde says was expected (`i64`, `a string`, `struct SourceSection`).
/// Our own descriptions come already in the user's language.
fn expected_value(expected: &str) -> String {
    match expected {
        "i64" => tr!("mapping-toml-expected-integer"),
        "a string" => tr!("mapping-toml-expected-string"),
        "a boolean" => tr!("mapping-toml-expected-boolean"),
        "a sequence" => tr!("mapping-toml-expected-sequence"),
        "a map" => tr!("mapping-toml-expected-map"),
        other => match other.strip_prefix("struct ") {
            Some(name) => tr!("mapping-toml-expected-table", name = name),
            None => other.to_string(),
        },
    }
}

impl fmt::Display for TomlProblem {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let text = match self {
            TomlProblem::UnknownKey { key, expected } => {
                choices("mapping-toml-unknown-key", "key", key, expected)
            }
            TomlProblem::UnknownValue { value, expected } => {
                choices("mapping-toml-unknown-value", "value", value, expected)
            }
            TomlProblem::MissingKey(key) => tr!("mapping-toml-missing-key", key = key.as_str()),
            TomlProblem::WrongType { found, expected } => tr!(
                "mapping-toml-wrong-type",
                found = found_value(found),
                expected = expected_value(expected)
            ),
            TomlProblem::DuplicateKey => tr!("mapping-toml-duplicate-key"),
            TomlProblem::Other(detail) => tr!("mapping-toml-other", detail = detail.as_str()),
        };
        f.write_str(&text)
    }
}

// The serde-facing twin of `MappingFile` whose field specs go through the
// string-or-table visitor.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMappingFile {
    #[serde(default)]
    source: SourceSection,
    #[serde(default)]
    request: RequestSection,
    #[serde(default)]
    fields: RawFields,
    #[serde(default)]
    form: FormSection,
    #[serde(default)]
    lookups: BTreeMap<String, LookupSection>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFields {
    #[serde(default, deserialize_with = "FieldSpec::from_wrapper")]
    wolkvox_id: Option<FieldSpec>,
    #[serde(default, deserialize_with = "FieldSpec::from_wrapper")]
    id: Option<FieldSpec>,
    #[serde(default, deserialize_with = "FieldSpec::from_wrapper")]
    name: Option<FieldSpec>,
    #[serde(default, deserialize_with = "FieldSpec::from_wrapper")]
    total_balance: Option<FieldSpec>,
    #[serde(default, deserialize_with = "FieldSpec::from_wrapper")]
    portfolio_type: Option<FieldSpec>,
    #[serde(default, deserialize_with = "FieldSpec::from_wrapper")]
    last_pay: Option<FieldSpec>,
    #[serde(default, deserialize_with = "FieldSpec::from_wrapper")]
    last_pay_date: Option<FieldSpec>,
    #[serde(default, deserialize_with = "FieldSpec::from_wrapper")]
    expiring_date: Option<FieldSpec>,
    #[serde(default, deserialize_with = "FieldSpec::from_wrapper")]
    days_delay: Option<FieldSpec>,
}

impl From<RawMappingFile> for MappingFile {
    fn from(r: RawMappingFile) -> Self {
        let f = r.fields;
        MappingFile {
            source: r.source,
            request: r.request,
            fields: FieldsSection {
                wolkvox_id: f.wolkvox_id,
                id: f.id,
                name: f.name,
                total_balance: f.total_balance,
                portfolio_type: f.portfolio_type,
                last_pay: f.last_pay,
                last_pay_date: f.last_pay_date,
                expiring_date: f.expiring_date,
                days_delay: f.days_delay,
            },
            form: r.form,
            lookups: r.lookups,
        }
    }
}

impl FieldsSection {
    /// The fields in API order, with their names.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Option<&FieldSpec>)> {
        // The names come from the one list of them; the members are in the
        // same order (a test checks each name against its member).
        let specs = [
            self.wolkvox_id.as_ref(),
            self.id.as_ref(),
            self.name.as_ref(),
            self.total_balance.as_ref(),
            self.portfolio_type.as_ref(),
            self.last_pay.as_ref(),
            self.last_pay_date.as_ref(),
            self.expiring_date.as_ref(),
            self.days_delay.as_ref(),
        ];
        crate::mapping::API_FIELDS.iter().copied().zip(specs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_is_listed_under_its_own_name() {
        let names = crate::mapping::API_FIELDS;
        assert_eq!(FieldsSection::default().iter().count(), names.len());
        for name in names {
            let m = parse(&format!("[fields]\n{name} = \"Column of {name}\"\n")).unwrap();
            let given: Vec<(&str, Option<String>)> = m
                .fields
                .iter()
                .filter_map(|(field, spec)| spec.map(|s| (field, s.column.clone())))
                .collect();
            assert_eq!(given, [(*name, Some(format!("Column of {name}")))]);
        }
    }

    #[test]
    fn the_product_example_parses() {
        let text = r#"
[source]
sheet = "Cartera"
header_row = 1
delimiter = ";"
encoding = "windows-1252"
decimal_separator = ","
date_formats = ["%d/%m/%Y"]

[request]
operation = "cobranza"
date_format = "%d-%m-%Y"

[fields]
wolkvox_id = "ID Registro"
id = "Nro Obligación"
name = "Producto"
total_balance = { column = "Saldo Total", type = "number" }
portfolio_type = { value = "Consumo" }
last_pay = { column = "Valor Último Pago", type = "number", default = "0" }
last_pay_date = { column = "Fecha Último Pago", type = "date" }
expiring_date = { column = "Fecha Vencimiento", type = "date", formats = ["%Y-%m-%d"] }
days_delay = { column = "Días Mora", type = "integer" }

[form]
extra_columns = "all"
exclude = ["Observaciones internas"]
rename = { "Tel Celular" = "Celular" }
"#;
        let m = parse(text).unwrap();
        assert_eq!(m.source.sheet.as_deref(), Some("Cartera"));
        assert_eq!(m.request.operation.as_deref(), Some("cobranza"));
        assert_eq!(
            m.fields.id.as_ref().unwrap().column.as_deref(),
            Some("Nro Obligación")
        );
        let tb = m.fields.total_balance.as_ref().unwrap();
        assert_eq!(tb.kind, FieldType::Number);
        assert_eq!(
            m.fields.portfolio_type.as_ref().unwrap().value.as_deref(),
            Some("Consumo")
        );
        assert_eq!(
            m.form.rename.get("Tel Celular").map(String::as_str),
            Some("Celular")
        );
        assert_eq!(m.form.extra_columns, Some(ExtraColumns::All));
    }

    #[test]
    fn the_product_lookup_example_parses() {
        let text = r#"
[lookups.expedientes]
file = "expedientes.xlsx"
sheet = "Registros"
key = "Identificación"
value = "wolkvox_id"
normalize = "digits"

[fields]
wolkvox_id = { column = "Cédula", lookup = "expedientes" }
"#;
        let m = parse(text).unwrap();
        let l = &m.lookups["expedientes"];
        assert_eq!(l.file, "expedientes.xlsx");
        assert_eq!(l.sheet.as_deref(), Some("Registros"));
        assert_eq!(
            (l.key.as_str(), l.value.as_str()),
            ("Identificación", "wolkvox_id")
        );
        assert_eq!(l.normalize, Normalize::Digits);
        assert_eq!(l.duplicates, Duplicates::Error);
        let w = m.fields.wolkvox_id.as_ref().unwrap();
        assert_eq!(w.lookup.as_deref(), Some("expedientes"));

        let e =
            parse("[lookups.x]\nfile = \"a\"\nkey = \"k\"\nvalue = \"v\"\nduplicate = \"first\"\n")
                .unwrap_err();
        assert!(e.contains("line 5"), "{e}");
        assert!(
            e.contains("did you mean `duplicates` instead of `duplicate`?"),
            "{e}"
        );
        let e = parse("[lookups.x]\nfile = \"a\"\nvalue = \"v\"\n").unwrap_err();
        assert!(e.contains("missing field `key`"), "{e}");
        let e = parse("[lookup.x]\nfile = \"a\"\n").unwrap_err();
        assert!(
            e.contains("did you mean `lookups` instead of `lookup`?"),
            "{e}"
        );
    }

    #[test]
    fn unknown_keys_name_the_key_line_and_nearest() {
        let e = parse("[source]\nsheet = \"A\"\nheadr_row = 2\n").unwrap_err();
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("unknown field `headr_row`"), "{e}");
        assert!(
            e.contains("did you mean `header_row` instead of `headr_row`?"),
            "{e}"
        );

        let e = parse("[fields]\nid = { colum = \"X\" }\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(
            e.contains("did you mean `column` instead of `colum`?"),
            "{e}"
        );

        let e = parse("[fields]\ntotal_balnce = \"Saldo\"\n").unwrap_err();
        assert!(e.contains("did you mean `total_balance`"), "{e}");

        let e = parse("[sources]\nsheet = \"A\"\n").unwrap_err();
        assert!(
            e.contains("did you mean `source` instead of `sources`?"),
            "{e}"
        );
    }

    #[test]
    fn wrong_value_types_are_reported_with_their_line() {
        let e = parse("[source]\nheader_row = \"two\"\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(e.contains("invalid type"), "{e}");
        let e = parse("[fields]\nid = { column = \"X\", type = \"money\" }\n").unwrap_err();
        assert!(e.contains("unknown variant `money`"), "{e}");
        let e = parse("[form]\nextra_columns = \"some\"\n").unwrap_err();
        assert!(e.contains("unknown variant `some`"), "{e}");
    }

    fn toml_error(text: &str) -> toml::de::Error {
        match toml::from_str::<RawMappingFile>(text) {
            Ok(_) => panic!("{text:?} parses"),
            Err(e) => e,
        }
    }

    /// In English the message is the TOML reader's own report, word for
    /// word, with the suggestion after it: each part said in the user's
    /// language must come back together as it was.
    #[test]
    fn english_errors_are_the_toml_readers_own_report() {
        let long = format!("{}[source]\nsheet = 3\n", "# comment\n".repeat(12));
        let texts = [
            "[source]\nsheet = \"A\"\nheadr_row = 2\n",
            "[sources]\nsheet = \"A\"\n",
            "[source]\nheader_row = \"two\"\n",
            "[source]\nheader_row = 1.5\n",
            "[source]\ndate_formats = \"x\"\n",
            "[fields]\nid = 5\n",
            "[fields]\nid = { column = \"X\", required = \"yes\" }\n",
            "[fields]\nid = { column = \"X\", type = \"money\" }\n",
            "[fields]\nid = { colum = \"X\" }\n",
            "[form]\nextra_columns = \"some\"\n",
            "[form]\nentries = 3\n",
            "[form]\nrename = { a = 1 }\n",
            "[lookups.x]\nfile = \"a\"\nvalue = \"v\"\n",
            "[lookups]\nx = 3\n",
            "[request]\noperation = 2024-01-01\n",
            "[source]\nsheet = \"a\"\nsheet = \"b\"\n",
            "[fields]\nid = \"unterminated\n",
            "[fields]\nid = \n",
            "[fields\nid = 3\n",
            "[fields]\nname = \"Año\"\nid = { column = \"Número\", type = \"dinero\" }\n",
            "[fields]\nid = \"X\"\n[fields]\nname = \"Y\"",
            long.as_str(),
        ];
        for text in texts {
            let e = toml_error(text);
            let ours = explain(&e, text);
            let theirs = e.to_string();
            let rest = ours.strip_prefix(theirs.trim_end());
            assert!(
                rest.is_some_and(|r| r.is_empty() || r.starts_with("\ndid you mean `")),
                "{text:?}\n--- ours\n{ours}\n--- the reader's\n{theirs}"
            );
        }
        // Each kind is recognised, not left as the reader wrote it.
        let kind = |text: &str| TomlProblem::read(toml_error(text).message());
        assert!(matches!(kind(texts[0]), TomlProblem::UnknownKey { .. }));
        assert!(matches!(kind(texts[2]), TomlProblem::WrongType { .. }));
        assert!(matches!(kind(texts[7]), TomlProblem::UnknownValue { .. }));
        assert!(matches!(kind(texts[12]), TomlProblem::MissingKey(_)));
        assert_eq!(kind(texts[15]), TomlProblem::DuplicateKey);
    }

    #[test]
    fn invalid_toml_shows_line_and_column() {
        let e = parse("[fields]\nid = \"unterminated\n").unwrap_err();
        assert!(e.contains("line 2, column"), "{e}");
    }
}
