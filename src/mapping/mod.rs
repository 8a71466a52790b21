//! From a row of the input to the exact JSON body of an `insertObligation`
//! request, or to a located explanation of why the row cannot be sent.
//!
//! [`Mapping`] is the mapping file checked on its own (types, formats,
//! constants). [`Plan`] is that mapping resolved against an input's header:
//! every column found, or the whole run refused before any row is read.
//! [`Plan::map_row`] is a pure function of one row.

mod body;
pub(crate) mod config;
pub mod init;
pub(crate) mod join;
pub(crate) mod lookup;
pub(crate) mod suggest;

use crate::problem::{Kind, Problem};
use crate::source::{Header, Row, SourceOptions};
use crate::tr;
use crate::value::{self, CellRef, DateFormat, DecimalSeparator};
use config::{ExtraColumns, FieldSpec, FieldType, MappingFile, SourceSection};
use lookup::{Lookup, LookupSpec, LookupTable, Lookups};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The API's field names: `wolkvox_id` (top level of the body) and then the
/// eight members of `fields`, in the API's order.
pub const API_FIELDS: &[&str] = &[
    "wolkvox_id",
    "id",
    "name",
    "total_balance",
    "portfolio_type",
    "last_pay",
    "last_pay_date",
    "expiring_date",
    "days_delay",
];

/// The members of `fields` that creating an obligation requires: every API
/// field but `wolkvox_id`, which sits at the top level of the body.
pub const OBLIGATION_FIELDS: &[&str] = API_FIELDS.split_at(1).1;

/// A mapping file that cannot be used, with every problem found in it: the
/// file and the problems as data, each problem in words a person can act
/// on (which section and key, and what to write instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    file: Option<PathBuf>,
    /// What the problems are about, said before them.
    context: Option<String>,
    problems: Vec<String>,
}

impl MappingError {
    /// Every problem found, in the order found.
    pub fn new(problems: Vec<String>) -> MappingError {
        MappingError {
            file: None,
            context: None,
            problems,
        }
    }

    /// One problem.
    pub fn one(problem: impl Into<String>) -> MappingError {
        MappingError::new(vec![problem.into()])
    }

    /// The same problems, found in the mapping file at `path`.
    pub fn in_file(mut self, path: &Path) -> MappingError {
        self.file = Some(path.to_path_buf());
        self
    }

    /// The same problems, after a sentence that says what they are about.
    pub fn with_context(mut self, context: String) -> MappingError {
        self.context = Some(context);
        self
    }

    /// The mapping file at fault, when it was read from one.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The problems, one sentence each.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl std::fmt::Display for MappingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(c) = &self.context {
            writeln!(f, "{c}")?;
        }
        if let Some(path) = &self.file {
            write!(f, "{}: ", path.display())?;
        }
        f.write_str(&self.problems.join("\n"))
    }
}

impl std::error::Error for MappingError {}

/// Where a field's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldSource {
    /// A column, by its name as the mapping spells it.
    Column(String),
    /// A constant, already converted to the API's spelling.
    Constant(String),
    /// The value a `[lookups.NAME]` table gives the column's cell.
    Lookup {
        /// The column whose cell is the key.
        column: String,
        /// The `NAME` of `[lookups.NAME]`.
        lookup: String,
    },
}

/// One API field's rule (or one `[form.entries]` entry's), checked.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRule {
    /// The API field it fills; `form` for an entry of `[form.entries]`.
    pub field: &'static str,
    /// Where the value comes from.
    pub source: FieldSource,
    /// How the value is read and spelled for the API.
    pub kind: FieldType,
    /// Used when the cell is empty, already in the API's spelling.
    pub default: Option<String>,
    /// An empty cell (with no default) makes the row invalid.
    pub required: bool,
    /// Formats for date text in this column (the mapping's `[source]
    /// date_formats` unless the field names its own).
    pub formats: Vec<DateFormat>,
}

/// The mapping file, checked on its own.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// How to read the input (`[source]`).
    pub source: SourceOptions,
    /// The input's decimal separator.
    pub decimal: DecimalSeparator,
    /// The CRM operation the obligations belong to (`[request] operation`).
    pub operation: Option<String>,
    /// How dates are spelled in the body (`[request] date_format`).
    pub date_format: DateFormat,
    /// Rules for the mapped API fields, in API order.
    pub rules: Vec<FieldRule>,
    /// Which columns with no API field go into `form`.
    pub extra_columns: ExtraColumns,
    /// Columns never sent in `form`.
    pub exclude: Vec<String>,
    /// `(column, name sent in form)` pairs.
    pub rename: Vec<(String, String)>,
    /// `[form.entries]`, in the order written.
    pub form_entries: Vec<FormEntryRule>,
    /// `[lookups.NAME]` tables, by name.
    pub lookups: Vec<LookupSpec>,
    /// The source's date formats, for rendering dates back into text (rejects).
    pub input_date_formats: Vec<DateFormat>,
    /// The file it was read from, for messages.
    pub origin: Option<std::path::PathBuf>,
}

/// One entry of `[form.entries]`: a value sent in `form` under `name`,
/// written like a field.
#[derive(Debug, Clone, PartialEq)]
pub struct FormEntryRule {
    /// The name sent in `form`.
    pub name: String,
    /// Where its value comes from, and how it is read.
    pub rule: FieldRule,
}

impl Mapping {
    /// Reads and checks the mapping file at `path`; lookups are resolved relative to it.
    pub fn load(path: &Path) -> Result<Mapping, MappingError> {
        let text = read_mapping_text(path)?;
        let mut m = Mapping::parse(&text).map_err(|e| e.in_file(path))?;
        // A lookup file is named relative to the mapping, so that a mapping
        // and its lookup files can move together.
        let folder = path.parent().unwrap_or(Path::new(""));
        for l in &mut m.lookups {
            l.path = folder.join(&l.file);
        }
        m.origin = Some(path.to_path_buf());
        Ok(m)
    }

    /// Only the `[source]` section of a mapping file, checked: how to read
    /// the input. `inspect --mapping` needs no more, so a mapping being
    /// written (no `[fields]` yet) is enough.
    pub fn load_source(path: &Path) -> Result<SourceOptions, MappingError> {
        let text = read_mapping_text(path)?;
        let file = config::parse(&text).map_err(|e| MappingError::one(e).in_file(path))?;
        let mut problems = Vec::new();
        let source = check_read_options("[source]", &file.source, &mut problems).source;
        if !problems.is_empty() {
            return Err(MappingError::new(problems).in_file(path));
        }
        Ok(source)
    }

    /// Whether a field or a form entry reads the lookup `name`.
    pub fn uses_lookup(&self, name: &str) -> bool {
        self.rules
            .iter()
            .chain(self.form_entries.iter().map(|e| &e.rule))
            .any(|r| matches!(&r.source, FieldSource::Lookup { lookup, .. } if lookup == name))
    }

    /// Checks a mapping given as text.
    pub fn parse(text: &str) -> Result<Mapping, MappingError> {
        let file = config::parse(text).map_err(MappingError::one)?;
        Mapping::check(file)
    }

    fn check(file: MappingFile) -> Result<Mapping, MappingError> {
        let mut problems: Vec<String> = Vec::new();
        let src = check_read_options("[source]", &file.source, &mut problems);
        let (decimal, input_date_formats) = (src.decimal, src.date_formats.clone());
        let operation = match file.request.operation.as_deref().map(str::trim) {
            Some("") => {
                problems.push(tr!("mapping-operation-empty"));
                None
            }
            other => other.map(str::to_string),
        };
        let date_format = match file.request.date_format.as_deref() {
            None => DateFormat::new(value::DEFAULT_OUTPUT_DATE_FORMAT).expect("valid"),
            Some(f) => DateFormat::new(f).unwrap_or_else(|e| {
                problems.push(tr!("mapping-date-format", error = e.to_string()));
                DateFormat::new(value::DEFAULT_OUTPUT_DATE_FORMAT).expect("valid")
            }),
        };
        let lookups = check_lookups(&file, &mut problems);
        let lookup_names: Vec<&str> = lookups.iter().map(|l| l.name.as_str()).collect();
        let ctx = FieldContext {
            source_formats: &input_date_formats,
            decimal,
            out_format: &date_format,
            lookups: &lookup_names,
        };
        let rules = check_rules(&file, &ctx, &mut problems);
        let form_entries = check_form_entries(&file, &ctx, &mut problems);
        if !problems.is_empty() {
            return Err(MappingError::new(problems));
        }
        Ok(Mapping {
            source: src.source,
            decimal,
            operation,
            date_format,
            rules,
            extra_columns: file.form.extra_columns.unwrap_or_default(),
            exclude: file.form.exclude.clone(),
            rename: file.form.rename.clone().into_iter().collect(),
            form_entries,
            lookups,
            input_date_formats,
            origin: None,
        })
    }
}

/// `[lookups.NAME]` tables, checked.
fn check_lookups(file: &MappingFile, problems: &mut Vec<String>) -> Vec<LookupSpec> {
    let mut lookups = Vec::new();
    for (name, l) in &file.lookups {
        let at = format!("[lookups.{name}]");
        let read = check_read_options(&at, &l.source(), problems);
        if l.file.trim().is_empty() {
            problems.push(tr!("mapping-lookup-file-empty", at = at.as_str()));
        }
        if l.key.trim().is_empty() {
            problems.push(tr!("mapping-lookup-key-empty", at = at.as_str()));
        }
        if l.value.trim().is_empty() {
            problems.push(tr!("mapping-lookup-value-empty", at = at.as_str()));
        }
        lookups.push(LookupSpec {
            name: name.clone(),
            file: l.file.clone(),
            path: PathBuf::from(&l.file),
            source: read.source,
            key: l.key.clone(),
            value: l.value.clone(),
            normalize: l.normalize,
            duplicates: l.duplicates,
            decimal: read.decimal,
            date_formats: read.date_formats,
        });
    }
    lookups
}

/// `[fields]`, checked, in API order.
fn check_rules(
    file: &MappingFile,
    ctx: &FieldContext<'_>,
    problems: &mut Vec<String>,
) -> Vec<FieldRule> {
    let mut rules = Vec::new();
    for (field, spec) in file.fields.iter() {
        match spec {
            None if field == "wolkvox_id" => problems.push(tr!("mapping-wolkvox-id-required")),
            None if field == "id" => problems.push(tr!("mapping-id-required")),
            None => {}
            Some(spec) => {
                let at = format!("[fields] {field}");
                if let Some(rule) = check_field(&at, field, spec, ctx, problems) {
                    rules.push(rule);
                }
            }
        }
    }
    rules
}

/// `[form.entries]`, checked, in the order written.
fn check_form_entries(
    file: &MappingFile,
    ctx: &FieldContext<'_>,
    problems: &mut Vec<String>,
) -> Vec<FormEntryRule> {
    let mut form_entries: Vec<FormEntryRule> = Vec::new();
    for (name, spec) in &file.form.entries.0 {
        let at = format!("[form.entries] \"{name}\"");
        if name.trim().is_empty() {
            problems.push(tr!("mapping-entry-name-empty"));
            continue;
        }
        if form_entries
            .iter()
            .any(|e| e.name.eq_ignore_ascii_case(name.trim()))
        {
            problems.push(tr!("mapping-entry-twice", at = at.as_str()));
            continue;
        }
        if let Some(rule) = check_field(&at, "form", spec, ctx, problems) {
            form_entries.push(FormEntryRule {
                name: name.trim().to_string(),
                rule,
            });
        }
    }
    form_entries
}

/// The mapping file's text. A file saved in a legacy encoding (Notepad's
/// "ANSI") is refused with what to do, not with a parser's complaint.
fn read_mapping_text(path: &Path) -> Result<String, MappingError> {
    let bytes = std::fs::read(path).map_err(|e| {
        MappingError::one(tr!(
            "mapping-cannot-read",
            error = crate::source::open_error(&e)
        ))
        .in_file(path)
    })?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let line = bytes[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        MappingError::one(tr!("mapping-not-utf8", line = line)).in_file(path)
    })
}

/// `[source]`-style reading options, checked: the input's, or a lookup file's.
struct ReadOptions {
    source: SourceOptions,
    decimal: DecimalSeparator,
    date_formats: Vec<DateFormat>,
}

fn check_read_options(at: &str, src: &SourceSection, problems: &mut Vec<String>) -> ReadOptions {
    let delimiter = match src.delimiter.as_deref() {
        None => None,
        Some("\\t" | "\t" | "tab" | "TAB") => Some(b'\t'),
        Some(d) if d.len() == 1 && d.is_ascii() && d != "\"" => Some(d.as_bytes()[0]),
        Some(d) => {
            problems.push(tr!("mapping-delimiter", at = at, value = d));
            None
        }
    };
    let encoding = match src.encoding.as_deref() {
        None => None,
        Some(label) => match crate::source::csv_encoding(label) {
            Some(e) => Some(e),
            None => {
                problems.push(tr!("mapping-encoding", at = at, value = label));
                None
            }
        },
    };
    let decimal = match src.decimal_separator.as_deref() {
        None | Some(".") => DecimalSeparator::Dot,
        Some(",") => DecimalSeparator::Comma,
        Some(d) => {
            problems.push(tr!("mapping-decimal-separator", at = at, value = d));
            DecimalSeparator::Dot
        }
    };
    let header_row = match src.header_row {
        None => None,
        Some(n) if n >= 1 => Some(n as u64),
        Some(n) => {
            problems.push(tr!("mapping-header-row", at = at, value = n.to_string()));
            None
        }
    };
    let date_formats = match &src.date_formats {
        None => value::DEFAULT_INPUT_DATE_FORMATS
            .iter()
            .map(|f| DateFormat::new(f).expect("built-in formats are valid"))
            .collect(),
        Some(list) if list.is_empty() => {
            problems.push(tr!("mapping-date-formats-empty", at = at));
            Vec::new()
        }
        Some(list) => formats_or_problems(list, &format!("{at} date_formats"), problems),
    };
    ReadOptions {
        source: SourceOptions {
            sheet: src.sheet.clone(),
            header_row,
            delimiter,
            encoding,
            section: Some(at.to_string()),
        },
        decimal,
        date_formats,
    }
}

/// What checking a field needs from the rest of the mapping.
struct FieldContext<'a> {
    /// `[source] date_formats`.
    source_formats: &'a [DateFormat],
    decimal: DecimalSeparator,
    out_format: &'a DateFormat,
    /// The names of the `[lookups.NAME]` tables.
    lookups: &'a [&'a str],
}

fn formats_or_problems(list: &[String], what: &str, problems: &mut Vec<String>) -> Vec<DateFormat> {
    list.iter()
        .filter_map(|f| match DateFormat::new(f) {
            Ok(f) => Some(f),
            Err(e) => {
                problems.push(format!("{what}: {e}"));
                None
            }
        })
        .collect()
}

fn check_field(
    at: &str,
    field: &'static str,
    spec: &FieldSpec,
    ctx: &FieldContext<'_>,
    problems: &mut Vec<String>,
) -> Option<FieldRule> {
    let before = problems.len();
    let formats = field_formats(at, spec, ctx, problems);
    let setting = Setting {
        at,
        spec,
        formats: &formats,
        ctx,
    };
    let source = field_source(&setting, problems);
    let default = match &spec.default {
        Some(_) if spec.value.is_some() => {
            problems.push(tr!("mapping-default-with-value", at = at));
            None
        }
        Some(d) => setting.convert(d, "default", problems),
        None => None,
    };
    if problems.len() > before {
        return None;
    }
    if matches!(field, "wolkvox_id" | "id") && spec.required == Some(false) {
        problems.push(if field == "id" {
            tr!("mapping-id-not-optional", at = at)
        } else {
            tr!("mapping-wolkvox-id-not-optional", at = at)
        });
        return None;
    }
    Some(FieldRule {
        field,
        source: source?,
        kind: spec.kind,
        default,
        required: spec.required.unwrap_or(true),
        formats,
    })
}

/// The date formats of a field: its own `formats`, checked, or the
/// source's.
fn field_formats(
    at: &str,
    spec: &FieldSpec,
    ctx: &FieldContext<'_>,
    problems: &mut Vec<String>,
) -> Vec<DateFormat> {
    match &spec.formats {
        Some(list) if spec.kind != FieldType::Date => {
            problems.push(tr!("mapping-formats-not-date", at = at));
            formats_or_problems(list, at, problems)
        }
        Some(list) if list.is_empty() => {
            problems.push(tr!("mapping-formats-empty", at = at));
            Vec::new()
        }
        Some(list) => formats_or_problems(list, &format!("{at} formats"), problems),
        None => ctx.source_formats.to_vec(),
    }
}

/// One field of the mapping file being checked.
struct Setting<'a> {
    /// Where it is, for messages: `[fields] total_balance`.
    at: &'a str,
    spec: &'a FieldSpec,
    formats: &'a [DateFormat],
    ctx: &'a FieldContext<'a>,
}

impl Setting<'_> {
    /// The field's `value` or `default` (named by `what`) in the API's
    /// spelling, or `None` with the problem noted.
    fn convert(&self, text: &str, what: &str, problems: &mut Vec<String>) -> Option<String> {
        let converted = convert_cell(
            CellRef::Text(text),
            self.spec.kind,
            self.ctx.decimal,
            self.formats,
            self.ctx.out_format,
        );
        match converted {
            Ok(v) if v.is_empty() => {
                problems.push(tr!("mapping-setting-empty", at = self.at, setting = what));
                None
            }
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(tr!(
                    "mapping-setting-invalid",
                    at = self.at,
                    setting = what,
                    error = e.to_string()
                ));
                None
            }
        }
    }
}

/// Where a field's value comes from: a column, a lookup or a constant.
fn field_source(s: &Setting<'_>, problems: &mut Vec<String>) -> Option<FieldSource> {
    let (at, spec) = (s.at, s.spec);
    match (&spec.column, &spec.value) {
        (Some(_), Some(_)) => {
            problems.push(tr!("mapping-column-and-value", at = at));
            None
        }
        (None, None) => {
            problems.push(tr!("mapping-column-or-value", at = at));
            None
        }
        (Some(c), None) if c.trim().is_empty() => {
            problems.push(tr!("mapping-column-empty", at = at));
            None
        }
        (Some(c), None) => match spec.lookup.as_deref() {
            None => Some(FieldSource::Column(c.clone())),
            Some(l) => {
                check_lookup_use(at, l, spec, s.ctx, problems).map(|l| FieldSource::Lookup {
                    column: c.clone(),
                    lookup: l.to_string(),
                })
            }
        },
        (None, Some(_)) if spec.lookup.is_some() => {
            problems.push(tr!("mapping-lookup-needs-column", at = at));
            None
        }
        (None, Some(v)) => s.convert(v, "value", problems).map(FieldSource::Constant),
    }
}

/// Checks a field's `lookup = "NAME"`; returns the name when it can be used.
fn check_lookup_use<'s>(
    at: &str,
    name: &'s str,
    spec: &FieldSpec,
    ctx: &FieldContext<'_>,
    problems: &mut Vec<String>,
) -> Option<&'s str> {
    if spec.formats.is_some() {
        problems.push(tr!("mapping-lookup-formats", at = at, name = name));
        return None;
    }
    if ctx.lookups.contains(&name) {
        return Some(name);
    }
    problems.push(match suggest::nearest(name, ctx.lookups.iter().copied()) {
        Some(s) => tr!(
            "mapping-lookup-unknown-suggest",
            at = at,
            name = name,
            suggestion = s
        ),
        None if ctx.lookups.is_empty() => tr!("mapping-lookup-unknown-none", at = at, name = name),
        None => tr!(
            "mapping-lookup-unknown-list",
            at = at,
            name = name,
            list = ctx
                .lookups
                .iter()
                .map(|l| format!("\"{l}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    });
    None
}

/// The index of the column `wanted` in `names`: equal after trimming,
/// ignoring case. The error names the nearest header, or lists them all.
pub(crate) fn find_column(names: &[String], wanted: &str) -> Result<usize, String> {
    let w = wanted.trim().to_lowercase();
    if let Some(i) = names.iter().position(|n| n.trim().to_lowercase() == w) {
        return Ok(i);
    }
    let candidates = names
        .iter()
        .map(String::as_str)
        .filter(|n| !n.trim().is_empty());
    // A garbled name is never offered: using it would send garbled text. It
    // points at the encoding instead.
    let (garbled, clean): (Vec<&str>, Vec<&str>) =
        candidates.partition(|n| suggest::ungarbled(n).is_some());
    Err(match suggest::nearest(wanted, clean) {
        Some(s) => tr!(
            "mapping-column-not-found-suggest",
            wanted = wanted,
            suggestion = s
        ),
        None => match garbled.iter().find_map(|g| {
            let fixed = suggest::ungarbled(g)?;
            suggest::nearest(wanted, [fixed.as_str()]).map(|_| (*g, fixed.clone()))
        }) {
            Some((g, fixed)) => tr!(
                "mapping-column-not-found-garbled",
                wanted = wanted,
                garbled = g,
                fixed = fixed
            ),
            None => tr!(
                "mapping-column-not-found-list",
                wanted = wanted,
                list = crate::source::quoted_list(names)
            ),
        },
    })
}

/// [`find_column`] that refuses a name two columns of `header` share: the
/// mapping could mean either. The error names both and says what to do.
pub(crate) fn find_unique_column(header: &Header, wanted: &str) -> Result<usize, String> {
    let i = find_column(&header.names, wanted)?;
    match header.same_name_as(i).first() {
        None => Ok(i),
        Some(&other) => Err(tr!(
            "mapping-column-ambiguous",
            wanted = wanted,
            first_at = header.position(i),
            second_at = header.position(other),
            row = header.row
        )),
    }
}

/// Converts one cell to the API's spelling for a field of type `kind`.
pub fn convert_cell(
    cell: CellRef<'_>,
    kind: FieldType,
    decimal: DecimalSeparator,
    formats: &[DateFormat],
    out_format: &DateFormat,
) -> Result<String, value::ValueError> {
    convert_cell_in(cell, kind, decimal, formats, out_format, false).map(Cow::into_owned)
}

/// [`convert_cell`] for a workbook in the 1904 date system when `date_1904`,
/// borrowing text from the cell where it is sent as it is.
fn convert_cell_in<'a>(
    cell: CellRef<'a>,
    kind: FieldType,
    decimal: DecimalSeparator,
    formats: &[DateFormat],
    out_format: &DateFormat,
    date_1904: bool,
) -> Result<Cow<'a, str>, value::ValueError> {
    if cell.is_blank() {
        return Ok(Cow::Borrowed(""));
    }
    match kind {
        FieldType::Text => value::exact_text_ref(cell, out_format),
        FieldType::Number => value::parse_number(cell, decimal).map(Cow::Owned),
        FieldType::Integer => value::parse_integer(cell, decimal).map(Cow::Owned),
        FieldType::Date => {
            value::parse_date_in(cell, formats, date_1904).map(|d| Cow::Owned(out_format.format(d)))
        }
    }
}

/// How one mapped field is filled for each row.
#[derive(Debug, Clone)]
struct ResolvedRule {
    rule: FieldRule,
    column: Option<usize>,
    /// The table a lookup rule reads, shared by every clone of the plan.
    table: Option<Arc<LookupTable>>,
    /// An id read from a column (`wolkvox_id`, `id`): every digit matters,
    /// so text in scientific notation is refused.
    whole_digits: bool,
}

/// A mapping resolved against an input's header.
#[derive(Debug, Clone)]
pub struct Plan {
    decimal: DecimalSeparator,
    date_format: DateFormat,
    /// Index 0 is `wolkvox_id`, then the eight fields in API order; `None`
    /// when the mapping leaves the field out.
    fields: Vec<Option<ResolvedRule>>,
    /// `(column index, name sent in form)`, in column order; empty when
    /// `extra_columns = "none"`.
    form: Vec<(usize, String)>,
    /// `[form.entries]`, sent after the extra columns.
    entries: Vec<(String, ResolvedRule)>,
    send_form: bool,
    header: Vec<String>,
    warnings: Vec<String>,
    unnamed: Vec<usize>,
    /// The bodies' fixed parts, escaped once.
    template: body::BodyTemplate,
    /// Dates as sent hold nothing JSON must escape: their digits, month
    /// names and punctuation are the same in every date.
    plain_dates: bool,
    /// Also hand out the values the report's charts need.
    with_report_fields: bool,
}

/// A row that passed validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MappedRow {
    /// The collections record the obligation is added to.
    pub wolkvox_id: String,
    /// The obligation's number.
    pub id: String,
    /// The exact JSON request body of an insert: every API field (unmapped
    /// ones as `""`) and the form.
    pub body: String,
    /// What the report's charts need, when the plan asks for it.
    pub report: Option<ReportFields>,
}

/// The values of a valid row that the report's portfolio charts need, taken
/// from the converted fields rather than parsed back out of the body. Each
/// is `None` when the field is not mapped, is empty, or (mapped as text)
/// does not read as a number.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportFields {
    /// `total_balance`, in the file's currency.
    pub total_balance: Option<f64>,
    /// `days_delay`, in days.
    pub days_delay: Option<i64>,
    /// `portfolio_type`, trimmed, when not empty.
    pub portfolio_type: Option<String>,
}

/// How the body of an update (PUT) is made from a row's full body: only
/// the mapped fields, so an update never blanks what the CRM holds, and the
/// form only when it has entries. Made on demand, for the few rows a run
/// updates, rather than rendered for every row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateShape {
    /// The `fields` members the mapping leaves out.
    unmapped: Vec<&'static str>,
    send_form: bool,
}

impl UpdateShape {
    /// The update body for a full body made by the same plan.
    pub fn body(&self, full: &str) -> String {
        let Ok(mut v) = serde_json::from_str::<serde_json::Value>(full) else {
            return full.to_string();
        };
        if let Some(fields) = v.get_mut("fields").and_then(|f| f.as_object_mut()) {
            // shift_remove keeps the members in the API's order.
            for name in &self.unmapped {
                fields.shift_remove(*name);
            }
            let empty_form = fields
                .get("form")
                .and_then(|f| f.as_array())
                .is_some_and(|a| a.is_empty());
            if empty_form || !self.send_form {
                fields.shift_remove("form");
            }
        }
        v.to_string()
    }
}

/// Why a row cannot be sent, cell by cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// What could be read of the row's identity, for the results file.
    pub wolkvox_id: String,
    /// What could be read of the obligation's number.
    pub id: String,
    /// Every cell at fault, in words a person can act on, joined by `; `.
    pub message: String,
    /// Each problem, as data; `message` is their text.
    pub problems: Vec<Problem>,
}

impl Plan {
    /// Resolves every column the mapping names against `header`. All missing
    /// columns are reported at once, each with the closest header. A mapping
    /// that uses lookups needs [`Plan::new_with_lookups`].
    pub fn new(mapping: &Mapping, header: &Header, operation: &str) -> Result<Plan, MappingError> {
        Plan::new_with_lookups(mapping, &Lookups::none(), header, operation)
    }

    /// The plan for an input that has no header at all (an empty CSV): it
    /// has no rows to map either, so the columns the mapping names cannot
    /// be checked and are taken as they are written.
    pub fn without_header(
        mapping: &Mapping,
        lookups: &Lookups,
        operation: &str,
    ) -> Result<Plan, MappingError> {
        let mut names: Vec<String> = Vec::new();
        let mut add = |name: &str| {
            if !names
                .iter()
                .any(|n| n.trim().eq_ignore_ascii_case(name.trim()))
            {
                names.push(name.to_string());
            }
        };
        let rules = mapping
            .rules
            .iter()
            .chain(mapping.form_entries.iter().map(|e| &e.rule));
        for rule in rules {
            match &rule.source {
                FieldSource::Column(c) | FieldSource::Lookup { column: c, .. } => add(c),
                FieldSource::Constant(_) => {}
            }
        }
        for name in mapping
            .exclude
            .iter()
            .chain(mapping.rename.iter().map(|(from, _)| from))
        {
            add(name);
        }
        let header = Header {
            names,
            row: 0,
            format: crate::source::Format::Csv,
        };
        Plan::new_with_lookups(mapping, lookups, &header, operation)
    }

    /// [`Plan::new`] with the lookup tables the mapping uses, already read.
    pub fn new_with_lookups(
        mapping: &Mapping,
        lookups: &Lookups,
        header: &Header,
        operation: &str,
    ) -> Result<Plan, MappingError> {
        let names = &header.names;
        let mut r = Resolver {
            names,
            header,
            lookups,
            used: vec![false; names.len()],
            problems: Vec::new(),
            missing_columns: false,
        };
        let fields = r.fields(mapping);
        let entries = r.entries(mapping);
        let excluded = r.excluded(mapping);
        let renamed = r.renamed(mapping);
        if r.missing_columns {
            // Read with the wrong delimiter, or from a title above the real
            // header, the header is not what the mapping expects at all:
            // one explanation beats a "not found" per field, each listing
            // the same single name.
            if let Some(OneColumn::WrongDelimiter(why) | OneColumn::Title(why)) =
                one_column_header(header)
            {
                return Err(MappingError::one(why));
            }
        }
        let form = match mapping.extra_columns {
            ExtraColumns::All => form_columns(names, &r.used, &excluded, &renamed),
            _ => Vec::new(),
        };
        entries_apart_from_form(&entries, &form, names, &mut r.problems);
        same_names_apart_from_form(header, &form, &mut r.problems);
        if !r.problems.is_empty() {
            return Err(MappingError::new(std::mem::take(&mut r.problems)));
        }
        let warnings = match mapping.extra_columns {
            ExtraColumns::All => form_name_warnings(&form, names),
            _ => Vec::new(),
        };
        let unnamed = (0..names.len())
            .filter(|&i| names[i].trim().is_empty())
            .collect();
        let entry_names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        let send_form = mapping.extra_columns == ExtraColumns::All || !entries.is_empty();
        let template = body::BodyTemplate::new(operation, &form, &entry_names, send_form);
        let sample = mapping
            .date_format
            .format(chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("a real date"));
        Ok(Plan {
            template,
            plain_dates: !crate::source::needs_json_escape(sample.as_bytes()),
            decimal: mapping.decimal,
            date_format: mapping.date_format.clone(),
            fields,
            send_form,
            form,
            entries,
            header: names.clone(),
            warnings,
            unnamed,
            with_report_fields: false,
        })
    }

    /// What the mapping does that is allowed but probably not meant, for
    /// the run to show before it starts.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Columns whose header cell is empty: what they hold is never sent.
    pub fn unnamed_columns(&self) -> &[usize] {
        &self.unnamed
    }

    /// How this plan's update bodies are made from its full bodies.
    pub fn update_shape(&self) -> UpdateShape {
        UpdateShape {
            unmapped: API_FIELDS
                .iter()
                .enumerate()
                .skip(1)
                .filter(|(slot, _)| self.fields[*slot].is_none())
                .map(|(_, name)| *name)
                .collect(),
            send_form: self.send_form,
        }
    }

    /// One rule's value for a row, in the API's spelling, or why there is
    /// none. Converted text goes to the end of `text`. Inlined: returned
    /// through memory, its result stalled the caller on every field.
    #[inline(always)]
    fn value_into(
        &self,
        r: &ResolvedRule,
        row: &Row,
        text: &mut String,
    ) -> Result<Piece, Box<Problem>> {
        let i = match (&r.rule.source, r.column) {
            (FieldSource::Constant(v), _) => return Ok(Piece::pushed(text, v)),
            (_, Some(i)) => i,
            (_, None) => unreachable!("columns are resolved in Plan::new"),
        };
        // Trimmed only for a message: header names often have accents.
        let column = || self.header[i].trim();
        let cell = row.get(i);
        if r.whole_digits {
            value::check_not_scientific(cell).map_err(|e| cell_problem(column(), e))?;
        }
        let v = match &r.table {
            None => convert_into(
                row,
                i,
                r.rule.kind,
                ConvertWith {
                    decimal: self.decimal,
                    formats: &r.rule.formats,
                    out_format: &self.date_format,
                    date_1904: row.date_1904,
                    plain_dates: self.plain_dates,
                },
                text,
            )
            .map_err(|e| cell_problem(column(), e))?,
            Some(table) => Piece::pushed(text, &self.look_up(table, r.rule.kind, column(), cell)?),
        };
        if !v.is_empty() {
            return Ok(v);
        }
        match &r.rule.default {
            Some(d) => Ok(Piece::pushed(text, d)),
            None if r.rule.required => Err(empty_problem(column())),
            None => Ok(v),
        }
    }

    /// The value `table` gives the key in `cell`, converted to `kind`. Empty
    /// only when the cell is.
    fn look_up<'a>(
        &self,
        table: &'a LookupTable,
        kind: FieldType,
        column: &str,
        cell: CellRef<'_>,
    ) -> Result<Cow<'a, str>, Box<Problem>> {
        if cell.is_blank() {
            return Ok(Cow::Borrowed(""));
        }
        let key = lookup::input_key_text(cell).map_err(|e| cell_problem(column, e))?;
        let key = key.trim();
        let file = table.file.as_str();
        let problem = |kind: Kind, detail: String| key_problem(kind, column, key, detail);
        match table.get(key) {
            Lookup::Found(found) => self.found_value(table, found, kind, column, key),
            Lookup::Missing => {
                let mut p = problem(Kind::NotInLookup, missing_detail(table, key));
                p.lookup = Some(table.file.clone());
                Err(p)
            }
            Lookup::Rounded { row } => Err(problem(
                Kind::LookupKeyRounded,
                tr!(
                    "lookup-key-rounded",
                    key = key,
                    file = file,
                    row = row,
                    column = table.key_column.as_str()
                ),
            )),
            Lookup::NoKey => Err(problem(
                Kind::LookupNoKey,
                tr!("lookup-no-key", key = key, file = file),
            )),
        }
    }

    /// The value `table` holds for `key`, converted to `kind`; a value that
    /// does not convert, or is empty, is the lookup file's row at fault.
    fn found_value<'a>(
        &self,
        table: &'a LookupTable,
        found: lookup::Found<'a>,
        kind: FieldType,
        column: &str,
        key: &str,
    ) -> Result<Cow<'a, str>, Box<Problem>> {
        let file = table.file.as_str();
        let v = convert_cell_in(
            found.cell(),
            kind,
            table.decimal,
            &table.date_formats,
            &self.date_format,
            false,
        )
        .map_err(|e| {
            key_problem(
                Kind::LookupValue,
                column,
                key,
                tr!(
                    "lookup-value-invalid",
                    key = key,
                    file = file,
                    row = found.row,
                    column = table.value_column.as_str(),
                    problem = e.to_string()
                ),
            )
        })?;
        if v.is_empty() {
            return Err(key_problem(
                Kind::LookupValueEmpty,
                column,
                key,
                tr!(
                    "lookup-value-empty",
                    key = key,
                    file = file,
                    row = found.row,
                    column = table.value_column.as_str()
                ),
            ));
        }
        Ok(v)
    }

    /// Makes every mapped row carry its [`ReportFields`] too (`--report`).
    pub fn with_report_fields(mut self) -> Plan {
        self.with_report_fields = true;
        self
    }

    /// Maps one row to its request body, or explains every cell at fault.
    pub fn map_row(&self, row: &Row) -> Result<MappedRow, RowError> {
        let mut out = MappedRow::default();
        self.map_row_into(row, &mut out, &mut MapScratch::default())?;
        Ok(out)
    }

    /// [`Plan::map_row`] into `out`, reusing its buffers and `scratch`'s, so
    /// that mapping a row allocates nothing once the buffers have grown.
    pub fn map_row_into(
        &self,
        row: &Row,
        out: &mut MappedRow,
        scratch: &mut MapScratch,
    ) -> Result<(), RowError> {
        self.map_values(row, out, scratch)?;
        self.write_body(row, scratch, &mut out.body);
        Ok(())
    }

    /// The first half of [`Plan::map_row_into`]: converts the row's values
    /// into `scratch` (where [`Plan::field`] reads them) and writes its
    /// identity into `out`, leaving `out.body` as it was. The body is
    /// written from the values by [`Plan::write_body`].
    pub fn map_values(
        &self,
        row: &Row,
        out: &mut MappedRow,
        scratch: &mut MapScratch,
    ) -> Result<(), RowError> {
        scratch.clear();
        self.convert(row, scratch);
        let identity = |slot: usize, out: &mut String| {
            out.clear();
            match (scratch.fields[slot], &self.fields[slot]) {
                (Some(p), _) => out.push_str(p.resolve(Some(row), row.text_str(), &scratch.text)),
                // A key that found nothing is not the value it stands for.
                (None, Some(r)) if r.table.is_some() => {}
                (None, r) => {
                    if let Some(i) = r.as_ref().and_then(|r| r.column) {
                        push_raw_text(row.get(i), out)
                    }
                }
            }
        };
        identity(0, &mut out.wolkvox_id);
        identity(1, &mut out.id);
        if !scratch.problems.is_empty() {
            return Err(RowError {
                wolkvox_id: std::mem::take(&mut out.wolkvox_id),
                id: std::mem::take(&mut out.id),
                message: crate::problem::error_text(&scratch.problems),
                problems: std::mem::take(&mut scratch.problems),
            });
        }
        if self.with_report_fields {
            // The previous row's fields are refilled: the type's text keeps
            // its buffer rather than a new one a row.
            let fields = out.report.get_or_insert_with(ReportFields::default);
            self.report_fields(row, scratch, fields);
        } else {
            out.report = None;
        }
        Ok(())
    }

    /// The second half of [`Plan::map_row_into`]: writes into `body` the
    /// insert body of the values [`Plan::map_values`] left in `scratch`
    /// for `row`.
    pub fn write_body(&self, row: &Row, scratch: &MapScratch, body: &mut String) {
        self.write_body_from(Some(row), row.text_str(), row.is_plain(), scratch, body);
    }

    /// [`Plan::write_body`] from a scratch [`MapScratch::detach`] made
    /// independent of its row, as another thread may.
    pub fn write_detached_body(&self, scratch: &MapScratch, body: &mut String) {
        debug_assert!(scratch.detached, "the scratch still needs its row");
        self.write_body_from(None, &scratch.record, scratch.plain, scratch, body);
    }

    fn write_body_from(
        &self,
        row: Option<&Row>,
        record: &str,
        plain: bool,
        scratch: &MapScratch,
        body: &mut String,
    ) {
        let text = &scratch.text;
        let value = |p: Piece| body::Value {
            text: p.resolve(row, record, text),
            plain: p.is_plain(plain),
        };
        self.template.write(
            body,
            scratch.fields.iter().map(|p| value(p.unwrap_or_default())),
            scratch.form.iter().map(|(which, p)| (*which, value(*p))),
        );
    }

    /// Converts every field and form value of `row` into `scratch`, noting
    /// each problem there.
    fn convert(&self, row: &Row, scratch: &mut MapScratch) {
        let MapScratch {
            text,
            fields,
            form,
            problems,
            ..
        } = scratch;
        if let Some(p) = &row.problem {
            problems.push(p.clone());
        }
        for (slot, resolved) in self.fields.iter().enumerate() {
            let Some(r) = resolved else { continue };
            match self.value_into(r, row, text) {
                Ok(v) => fields[slot] = Some(v),
                // Several fields that look the same key up in the same file
                // (its id, its balance, its date) miss it together: said
                // once.
                Err(e) if problems.contains(&*e) => {}
                Err(e) => problems.push(*e),
            }
        }
        if !self.send_form {
            return;
        }
        for (k, (i, _)) in self.form.iter().enumerate() {
            let cell = row.get(*i);
            if cell.is_blank() {
                continue;
            }
            // Form values reach the CRM as they are: a rounded number
            // there is as wrong as in a field, so the same rule applies.
            let piece = match cell {
                CellRef::Text(s) => Ok(Piece::trimmed(row, *i, s)),
                other => {
                    value::exact_text_ref(other, &self.date_format).map(|v| Piece::pushed(text, &v))
                }
            };
            match piece {
                Ok(p) => form.push((Ok(k), p)),
                Err(e) => problems.push(self.form_problem(*i, cell, e)),
            }
        }
        for (k, (_, r)) in self.entries.iter().enumerate() {
            match self.value_into(r, row, text) {
                Ok(v) if v.is_empty() => {}
                Ok(v) => form.push((Err(k), v)),
                // A key a field already failed to find is said once.
                Err(e) if problems.contains(&*e) => {}
                Err(e) => problems.push(*e),
            }
        }
    }

    /// Why the cell of the extra column `i` cannot be sent in the form.
    #[cold]
    fn form_problem(&self, i: usize, cell: CellRef<'_>, e: value::ValueError) -> Problem {
        let mut p = Problem::of_value(self.header[i].trim(), e);
        if matches!(cell, CellRef::Number(_)) {
            p.detail = tr!("row-form-number", problem = p.detail);
        }
        p
    }

    /// The converted value of the API field `name` (one of [`API_FIELDS`])
    /// for the row `scratch` was last given by [`Plan::map_values`]:
    /// `None` when the mapping leaves the field out or its cell was at fault.
    pub fn field<'a>(&self, scratch: &'a MapScratch, row: &'a Row, name: &str) -> Option<&'a str> {
        let slot = API_FIELDS.iter().position(|f| *f == name)?;
        scratch.fields[slot].map(|p| p.resolve(Some(row), row.text_str(), &scratch.text))
    }

    /// The charts' values, from the fields already converted to the API's
    /// spelling: plain digits for a number or integer field. A field mapped
    /// as text is read as the mapping's numbers are.
    fn report_fields(&self, row: &Row, scratch: &MapScratch, out: &mut ReportFields) {
        const TOTAL_BALANCE: usize = 3;
        const PORTFOLIO_TYPE: usize = 4;
        const DAYS_DELAY: usize = 8;
        debug_assert_eq!(API_FIELDS[TOTAL_BALANCE], "total_balance");
        debug_assert_eq!(API_FIELDS[PORTFOLIO_TYPE], "portfolio_type");
        debug_assert_eq!(API_FIELDS[DAYS_DELAY], "days_delay");
        let field = |slot: usize| {
            scratch.fields[slot].map(|p| p.resolve(Some(row), row.text_str(), &scratch.text))
        };
        let number = |slot: usize| -> Option<f64> {
            let v = field(slot)?.trim();
            if v.is_empty() {
                return None;
            }
            v.parse::<f64>()
                .ok()
                .or_else(|| {
                    value::parse_number(CellRef::Text(v), self.decimal)
                        .ok()?
                        .parse()
                        .ok()
                })
                .filter(|n: &f64| n.is_finite())
        };
        out.total_balance = number(TOTAL_BALANCE);
        // An integer field is plain digits: read it as one, not as a float.
        out.days_delay = field(DAYS_DELAY)
            .and_then(|v| v.parse::<i64>().ok())
            .or_else(|| number(DAYS_DELAY).map(|d| d.round() as i64));
        match field(PORTFOLIO_TYPE)
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Some(t) => {
                let kept = out.portfolio_type.get_or_insert_with(String::new);
                kept.clear();
                kept.push_str(t);
            }
            None => out.portfolio_type = None,
        }
    }
}

/// Resolves what a mapping names against an input's header, noting every
/// problem: all missing columns are reported at once.
struct Resolver<'a> {
    names: &'a [String],
    header: &'a Header,
    lookups: &'a Lookups,
    /// Columns a field or form entry reads: they are not extra columns.
    used: Vec<bool>,
    problems: Vec<String>,
    /// A column was not found, which a header of one name may explain.
    missing_columns: bool,
}

impl Resolver<'_> {
    fn find(&self, wanted: &str) -> Result<usize, String> {
        find_unique_column(self.header, wanted)
    }

    /// Notes a problem of a name that did not resolve.
    fn missing(&mut self, problem: String) {
        self.missing_columns = true;
        self.problems.push(problem);
    }

    fn resolve(&mut self, rule: &FieldRule) -> Result<ResolvedRule, String> {
        let (column, table) = match &rule.source {
            FieldSource::Constant(_) => (None, None),
            FieldSource::Column(c) => (Some(self.find(c)?), None),
            FieldSource::Lookup { column, lookup } => {
                let i = self.find(column)?;
                let table = self
                    .lookups
                    .get(lookup)
                    .ok_or_else(|| tr!("mapping-lookup-not-read", lookup = lookup.as_str()))?;
                (Some(i), Some(Arc::clone(table)))
            }
        };
        if let Some(i) = column {
            self.used[i] = true;
        }
        Ok(ResolvedRule {
            whole_digits: matches!(rule.field, "wolkvox_id" | "id")
                && matches!(rule.source, FieldSource::Column(_)),
            rule: rule.clone(),
            column,
            table,
        })
    }

    /// `wolkvox_id`, then the eight fields in API order; `None` when the
    /// mapping leaves one out.
    fn fields(&mut self, mapping: &Mapping) -> Vec<Option<ResolvedRule>> {
        let mut fields: Vec<Option<ResolvedRule>> = vec![None; API_FIELDS.len()];
        for rule in &mapping.rules {
            let slot = API_FIELDS
                .iter()
                .position(|f| *f == rule.field)
                .expect("known field");
            match self.resolve(rule) {
                Ok(r) => fields[slot] = Some(r),
                Err(e) => self.missing(format!("[fields] {}: {e}", rule.field)),
            }
        }
        fields
    }

    fn entries(&mut self, mapping: &Mapping) -> Vec<(String, ResolvedRule)> {
        let mut entries = Vec::new();
        for entry in &mapping.form_entries {
            match self.resolve(&entry.rule) {
                Ok(r) => entries.push((entry.name.clone(), r)),
                Err(e) => self.missing(format!("[form.entries] \"{}\": {e}", entry.name)),
            }
        }
        entries
    }

    /// The columns `[form] exclude` leaves out of the form.
    fn excluded(&mut self, mapping: &Mapping) -> Vec<bool> {
        let mut excluded = vec![false; self.names.len()];
        for x in &mapping.exclude {
            // Leaving out a name two columns share is not ambiguous: both go.
            match find_column(self.names, x) {
                Ok(i) => {
                    excluded[i] = true;
                    for j in self.header.same_name_as(i) {
                        excluded[j] = true;
                    }
                }
                Err(e) => self.missing(format!("[form] exclude: {e}")),
            }
        }
        excluded
    }

    /// The names `[form] rename` gives columns in the form.
    fn renamed(&mut self, mapping: &Mapping) -> Vec<Option<String>> {
        let mut renamed: Vec<Option<String>> = vec![None; self.names.len()];
        for (from, to) in &mapping.rename {
            match self.find(from) {
                Ok(i) if to.trim().is_empty() => self
                    .problems
                    .push(tr!("mapping-rename-empty", column = self.names[i].as_str())),
                Ok(i) => renamed[i] = Some(to.trim().to_string()),
                Err(e) => self.missing(format!("[form] rename: {e}")),
            }
        }
        renamed
    }
}

/// The extra columns sent in `form`, in column order, with the name each
/// is sent as: every named column no field reads and `[form]` does not
/// exclude, nor the columns a rejects file adds.
fn form_columns(
    names: &[String],
    used: &[bool],
    excluded: &[bool],
    renamed: &[Option<String>],
) -> Vec<(usize, String)> {
    (0..names.len())
        .filter(|&i| {
            !used[i]
                && !excluded[i]
                && !names[i].trim().is_empty()
                && !crate::results::is_rejects_error_column(names, i)
                && !crate::results::is_rejects_row_column(names, i)
        })
        .map(|i| {
            (
                i,
                renamed[i]
                    .clone()
                    .unwrap_or_else(|| names[i].trim().to_string()),
            )
        })
        .collect()
}

/// Two form entries of one name would leave the CRM to pick one.
fn entries_apart_from_form(
    entries: &[(String, ResolvedRule)],
    form: &[(usize, String)],
    names: &[String],
    problems: &mut Vec<String>,
) {
    for (name, _) in entries {
        if let Some((i, _)) = form.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)) {
            problems.push(tr!(
                "mapping-entry-also-in-form",
                name = name.as_str(),
                column = names[*i].trim()
            ));
        }
    }
}

/// Two columns of one name in the header, both sent in form: the CRM
/// would get two entries it cannot tell apart, so the mapping must leave
/// them out, or the file rename one.
fn same_names_apart_from_form(
    header: &Header,
    form: &[(usize, String)],
    problems: &mut Vec<String>,
) {
    for group in header.same_names() {
        let sent: Vec<usize> = group
            .iter()
            .copied()
            .filter(|i| form.iter().any(|(j, _)| j == i))
            .collect();
        if let [first, second, ..] = sent[..] {
            problems.push(tr!(
                "mapping-same-name-in-form",
                first = header.names[first].as_str(),
                first_at = header.position(first),
                second = header.names[second].as_str(),
                second_at = header.position(second),
                row = header.row,
                exclude = toml::Value::String(header.names[first].trim().to_string()).to_string()
            ));
        }
    }
}

/// Two extra columns sent under one name: allowed, probably not meant.
fn form_name_warnings(form: &[(usize, String)], names: &[String]) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut by_name: std::collections::HashMap<String, usize> = Default::default();
    for (i, sent_as) in form {
        match by_name.get(&sent_as.to_lowercase()) {
            Some(&first) => warnings.push(tr!(
                "mapping-form-same-name",
                first = names[first].trim(),
                second = names[*i].trim(),
                name = sent_as.as_str()
            )),
            None => {
                by_name.insert(sent_as.to_lowercase(), *i);
            }
        }
    }
    warnings
}

/// Where one converted value of a row is: a trimmed part of a text cell, or
/// a stretch of [`MapScratch`]'s text. Text sent as it is is never copied
/// before the body is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Piece {
    #[default]
    Empty,
    /// In a CSV row's text ([`Row::span`]).
    Span { start: u32, end: u32 },
    /// In a workbook row's cell.
    Cell { col: u32, start: u32, end: u32 },
    /// In [`MapScratch`]'s text; `plain` when it is known to hold nothing
    /// JSON must escape (a number, a date).
    Text { start: u32, end: u32, plain: bool },
}

impl Piece {
    /// `v` appended to `text`.
    fn pushed(text: &mut String, v: &str) -> Piece {
        if v.is_empty() {
            return Piece::Empty;
        }
        let start = text.len() as u32;
        text.push_str(v);
        Piece::Text {
            start,
            end: text.len() as u32,
            plain: false,
        }
    }

    /// The text `text` has been appended since `start`; `plain` when it
    /// is known to hold nothing JSON must escape.
    fn since(text: &str, start: usize, plain: bool) -> Piece {
        if text.len() == start {
            return Piece::Empty;
        }
        Piece::Text {
            start: start as u32,
            end: text.len() as u32,
            plain,
        }
    }

    /// The trimmed text of `row`'s cell `col`, whose text is `s`.
    fn trimmed(row: &Row, col: usize, s: &str) -> Piece {
        let t = value::trim(s);
        if t.is_empty() {
            return Piece::Empty;
        }
        if let Some((start, end)) = row.span_of(t) {
            return Piece::Span { start, end };
        }
        let start = t.as_ptr() as usize - s.as_ptr() as usize;
        Piece::Cell {
            col: col as u32,
            start: start as u32,
            end: (start + t.len()) as u32,
        }
    }

    fn is_empty(&self) -> bool {
        *self == Piece::Empty
    }

    /// Whether the piece holds nothing JSON must escape: converted text
    /// known to be plain, or a cell's text when its row is `row_plain`.
    fn is_plain(&self, row_plain: bool) -> bool {
        match self {
            Piece::Empty => true,
            Piece::Span { .. } | Piece::Cell { .. } => row_plain,
            Piece::Text { plain, .. } => *plain,
        }
    }

    /// The piece's text: `record` is the row's text ([`Row::text_str`]),
    /// `row` the row itself, needed for a workbook cell.
    fn resolve<'a>(self, row: Option<&'a Row>, record: &'a str, text: &'a str) -> &'a str {
        match self {
            Piece::Empty => "",
            Piece::Span { start, end } => &record[start as usize..end as usize],
            Piece::Cell { col, start, end } => match row.map(|r| r.get(col as usize)) {
                Some(CellRef::Text(s)) => &s[start as usize..end as usize],
                _ => unreachable!("a cell piece is made from a text cell of its row"),
            },
            Piece::Text { start, end, .. } => &text[start as usize..end as usize],
        }
    }
}

/// What [`Plan::map_row_into`] reuses from row to row: a row's converted
/// values, most of them still in the row's cells.
#[derive(Debug, Default)]
pub struct MapScratch {
    /// Converted values (numbers, dates, constants, looked-up values).
    text: String,
    /// The nine API fields' values; `None` when unmapped or at fault.
    fields: [Option<Piece>; 9],
    /// The form's entries in order: `Ok(i)` the i-th extra column,
    /// `Err(i)` the i-th `[form.entries]` entry.
    form: Vec<(Result<usize, usize>, Piece)>,
    problems: Vec<Problem>,
    /// A copy of the row's text, once [`MapScratch::detach`]ed.
    record: String,
    /// The row was plain ([`Row::is_plain`]); known once detached.
    plain: bool,
    detached: bool,
}

impl MapScratch {
    fn clear(&mut self) {
        self.text.clear();
        self.fields = [None; 9];
        self.form.clear();
        self.problems.clear();
        self.record.clear();
        self.detached = false;
    }

    /// Makes the values independent of `row`, the row they were converted
    /// from, so that the body can be written after the row is gone (on
    /// another thread): the row's text is copied, in one piece.
    pub fn detach(&mut self, row: &Row) {
        self.record.clear();
        self.record.push_str(row.text_str());
        self.plain = row.is_plain();
        let MapScratch {
            text, fields, form, ..
        } = self;
        let pieces = fields
            .iter_mut()
            .flatten()
            .chain(form.iter_mut().map(|(_, p)| p));
        for p in pieces {
            // A workbook cell's text is not in the row's text: copied alone.
            if let Piece::Cell { .. } = p {
                let cell = p.resolve(Some(row), "", text).to_string();
                *p = Piece::pushed(text, &cell);
            }
        }
        self.detached = true;
    }
}

/// How a cell is converted, besides its type.
#[derive(Clone, Copy)]
struct ConvertWith<'a> {
    decimal: DecimalSeparator,
    formats: &'a [DateFormat],
    out_format: &'a DateFormat,
    date_1904: bool,
    /// Dates in `out_format` hold nothing JSON must escape.
    plain_dates: bool,
}

/// [`convert_cell_in`] without a copy: text sent as it is stays in cell
/// `col`; anything converted goes to the end of `text`.
#[inline]
fn convert_into(
    row: &Row,
    col: usize,
    kind: FieldType,
    with: ConvertWith<'_>,
    text: &mut String,
) -> Result<Piece, value::ValueError> {
    let cell = row.get(col);
    if cell.is_blank() {
        return Ok(Piece::Empty);
    }
    let start = text.len();
    // Numbers are digits, a point and a minus sign.
    let plain = match kind {
        FieldType::Text => match cell {
            CellRef::Text(s) => return Ok(Piece::trimmed(row, col, s)),
            other => {
                let v = value::exact_text_ref(other, with.out_format)?;
                text.push_str(&v);
                false
            }
        },
        FieldType::Number => {
            value::push_number(cell, with.decimal, text)?;
            true
        }
        FieldType::Integer => {
            value::push_integer(cell, with.decimal, text)?;
            true
        }
        FieldType::Date => {
            value::push_date(cell, with.formats, with.date_1904, with.out_format, text)?;
            with.plain_dates
        }
    };
    Ok(Piece::since(text, start, plain))
}

/// A key cell of `column` that finds no usable value in its lookup table.
/// The cell is at fault or not, but the key is what a person looks for.
#[cold]
fn key_problem(kind: Kind, column: &str, key: &str, detail: String) -> Box<Problem> {
    Box::new(Problem::in_cell(
        kind,
        column,
        Some(key.to_string()),
        detail,
    ))
}

/// Why a key is not in `table`, and, when the lookup file set aside keys
/// whose digits its spreadsheet dropped, that it may be one of them.
#[cold]
fn missing_detail(table: &LookupTable, key: &str) -> String {
    let file = table.file.as_str();
    let mut detail = tr!(
        "lookup-missing",
        key = key,
        file = file,
        column = table.key_column.as_str()
    );
    if let Some((count, row)) = table.untrusted_keys() {
        detail.push_str(&tr!(
            "lookup-missing-rounded",
            count = count,
            file = file,
            row = row,
            column = table.key_column.as_str()
        ));
    }
    detail
}

/// A cell of `column` that could not become its field's value. Out of the
/// way of the rows that convert, as [`empty_problem`].
#[cold]
fn cell_problem(column: &str, e: value::ValueError) -> Box<Problem> {
    Box::new(Problem::of_value(column, e))
}

#[cold]
fn empty_problem(column: &str) -> Box<Problem> {
    Box::new(Problem::empty(column))
}

/// What a header holding a single name probably is.
enum OneColumn {
    /// Every name in one cell: the file's delimiter is not the one used to
    /// read it. Says what to do, instead of the per-field messages.
    WrongDelimiter(String),
    /// A title above the real header: a hint at `header_row`.
    Title(String),
}

/// `None` when the header has more than one name.
fn one_column_header(header: &Header) -> Option<OneColumn> {
    let mut named = header.names.iter().filter(|n| !n.trim().is_empty());
    let name = named.next()?.trim();
    if named.next().is_some() {
        return None;
    }
    let row = header.row;
    let split_by = [';', ',', '\t', '|']
        .into_iter()
        .map(|d| (d, name.split(d).filter(|p| !p.trim().is_empty()).count()))
        // Three names at least: a title may hold a comma or two.
        .filter(|&(_, parts)| parts >= 3)
        .max_by_key(|&(_, parts)| parts);
    Some(match (split_by, header.format) {
        (Some((d, _)), crate::source::Format::Csv) => {
            let shown = if d == '\t' {
                "\\t".to_string()
            } else {
                d.to_string()
            };
            OneColumn::WrongDelimiter(tr!(
                "mapping-header-delimiter",
                row = row,
                name = name,
                delimiter = shown
            ))
        }
        (Some((d, _)), crate::source::Format::Workbook) => {
            let shown = if d == '\t' {
                "TAB".to_string()
            } else {
                d.to_string()
            };
            OneColumn::WrongDelimiter(tr!(
                "mapping-header-csv-in-sheet",
                row = row,
                name = name,
                delimiter = shown
            ))
        }
        (None, _) => OneColumn::Title(tr!("mapping-header-title", row = row, name = name)),
    })
}

/// A cell as plain text, for identifying a row whose cells failed to convert.
fn push_raw_text(cell: CellRef<'_>, out: &mut String) {
    use std::fmt::Write as _;
    match cell {
        CellRef::Empty => {}
        CellRef::Text(s) => out.push_str(s.trim()),
        CellRef::Number(n) => out.push_str(&value::format_float(n)),
        CellRef::Int(i) => write!(out, "{i}").expect("a String takes any number"),
        CellRef::Bool(b) => write!(out, "{b}").expect("a String takes any bool"),
        CellRef::Date(d) => write!(out, "{d}").expect("a String takes any date"),
        CellRef::Error(e) => out.push_str(e),
    }
}

#[cfg(test)]
mod tests;
