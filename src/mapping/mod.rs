//! From a row of the input to the exact JSON body of an `insertObligation`
//! request, or to a located explanation of why the row cannot be sent.
//!
//! [`Mapping`] is the mapping file checked on its own (types, formats,
//! constants). [`Plan`] is that mapping resolved against an input's header:
//! every column found, or the whole run refused before any row is read.
//! [`Plan::map_row`] is a pure function of one row.

pub mod config;
pub mod init;
pub mod suggest;

use crate::source::{Header, Row, SourceOptions};
use crate::value::{self, CellRef, DateFormat, DecimalSeparator};
use config::{ExtraColumns, FieldSpec, FieldType, MappingFile};
use serde::ser::{SerializeMap, Serializer};
use std::borrow::Cow;
use std::path::Path;

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

/// A mapping file that cannot be used, with every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MappingError(pub String);

/// Where a field's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldSource {
    /// A column, by its name as the mapping spells it.
    Column(String),
    /// A constant, already converted to the API's spelling.
    Constant(String),
}

/// One API field's rule, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRule {
    pub field: &'static str,
    pub source: FieldSource,
    pub kind: FieldType,
    /// Used when the cell is empty, already in the API's spelling.
    pub default: Option<String>,
    pub required: bool,
    /// Formats for date text in this column (the mapping's `[source]
    /// date_formats` unless the field names its own).
    pub formats: Vec<DateFormat>,
}

/// The mapping file, checked on its own.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub source: SourceOptions,
    pub decimal: DecimalSeparator,
    pub operation: Option<String>,
    pub date_format: DateFormat,
    /// Rules for the mapped API fields, in API order.
    pub rules: Vec<FieldRule>,
    pub extra_columns: ExtraColumns,
    pub exclude: Vec<String>,
    pub rename: Vec<(String, String)>,
    /// The source's date formats, for rendering dates back into text (rejects).
    pub input_date_formats: Vec<DateFormat>,
    /// The file it was read from, for messages.
    pub origin: Option<std::path::PathBuf>,
}

impl Mapping {
    pub fn load(path: &Path) -> Result<Mapping, MappingError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            MappingError(format!(
                "{}: cannot read the mapping file: {}",
                path.display(),
                crate::source::open_error(&e)
            ))
        })?;
        let mut m = Mapping::parse(&text)
            .map_err(|e| MappingError(format!("{}: {}", path.display(), e.0)))?;
        m.origin = Some(path.to_path_buf());
        Ok(m)
    }

    pub fn parse(text: &str) -> Result<Mapping, MappingError> {
        let file = config::parse(text).map_err(MappingError)?;
        Mapping::check(file)
    }

    fn check(file: MappingFile) -> Result<Mapping, MappingError> {
        let mut problems: Vec<String> = Vec::new();
        let src = &file.source;

        let delimiter = match src.delimiter.as_deref() {
            None => None,
            Some("\\t" | "\t" | "tab" | "TAB") => Some(b'\t'),
            Some(d) if d.len() == 1 && d.is_ascii() && d != "\"" => Some(d.as_bytes()[0]),
            Some(d) => {
                problems.push(format!(
                    "[source] delimiter = \"{d}\": a delimiter is one character such as \";\" \",\" \"|\" or \"\\t\""
                ));
                None
            }
        };
        let encoding = match src.encoding.as_deref() {
            None => None,
            Some(label) => match crate::source::csv_encoding(label) {
                Some(e) => Some(e),
                None => {
                    problems.push(format!(
                        "[source] encoding = \"{label}\" is not an encoding name; use e.g. \"windows-1252\", \"iso-8859-1\" or \"utf-8\""
                    ));
                    None
                }
            },
        };
        let decimal = match src.decimal_separator.as_deref() {
            None | Some(".") => DecimalSeparator::Dot,
            Some(",") => DecimalSeparator::Comma,
            Some(d) => {
                problems.push(format!(
                    "[source] decimal_separator = \"{d}\": use \".\" or \",\""
                ));
                DecimalSeparator::Dot
            }
        };
        let header_row = match src.header_row {
            None => None,
            Some(n) if n >= 1 => Some(n as u64),
            Some(n) => {
                problems.push(format!(
                    "[source] header_row = {n}: rows are numbered from 1"
                ));
                None
            }
        };
        let input_date_formats = match &src.date_formats {
            None => value::DEFAULT_INPUT_DATE_FORMATS
                .iter()
                .map(|f| DateFormat::new(f).expect("built-in formats are valid"))
                .collect(),
            Some(list) if list.is_empty() => {
                problems.push(
                    "[source] date_formats is empty; list at least one format such as \"%d/%m/%Y\""
                        .into(),
                );
                Vec::new()
            }
            Some(list) => formats_or_problems(list, "[source] date_formats", &mut problems),
        };

        let operation = match file.request.operation.as_deref().map(str::trim) {
            Some("") => {
                problems.push(
                    "[request] operation is empty; set it to your CRM operation's name".into(),
                );
                None
            }
            other => other.map(str::to_string),
        };
        let date_format = match file.request.date_format.as_deref() {
            None => DateFormat::new(value::DEFAULT_OUTPUT_DATE_FORMAT).expect("valid"),
            Some(f) => DateFormat::new(f).unwrap_or_else(|e| {
                problems.push(format!("[request] date_format: {e}"));
                DateFormat::new(value::DEFAULT_OUTPUT_DATE_FORMAT).expect("valid")
            }),
        };

        let mut rules = Vec::new();
        for (field, spec) in file.fields.iter() {
            match spec {
                None if field == "wolkvox_id" => problems.push(
                    "[fields] wolkvox_id is required: the column (or constant) with the collections record each obligation belongs to".into(),
                ),
                None if field == "id" => problems.push(
                    "[fields] id is required: the column with the obligation's number".into(),
                ),
                None => {}
                Some(spec) => {
                    if let Some(rule) = check_field(field, spec, &input_date_formats, decimal, &date_format, &mut problems) {
                        rules.push(rule);
                    }
                }
            }
        }

        if !problems.is_empty() {
            return Err(MappingError(problems.join("\n")));
        }
        Ok(Mapping {
            source: SourceOptions {
                sheet: src.sheet.clone(),
                header_row,
                delimiter,
                encoding,
            },
            decimal,
            operation,
            date_format,
            rules,
            extra_columns: file.form.extra_columns.unwrap_or_default(),
            exclude: file.form.exclude.clone(),
            rename: file.form.rename.clone().into_iter().collect(),
            input_date_formats,
            origin: None,
        })
    }
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
    field: &'static str,
    spec: &FieldSpec,
    source_formats: &[DateFormat],
    decimal: DecimalSeparator,
    out_format: &DateFormat,
    problems: &mut Vec<String>,
) -> Option<FieldRule> {
    let at = format!("[fields] {field}");
    let before = problems.len();
    let formats = match &spec.formats {
        Some(list) if spec.kind != FieldType::Date => {
            problems.push(format!("{at}: formats only apply to type = \"date\""));
            formats_or_problems(list, &at, problems)
        }
        Some(list) if list.is_empty() => {
            problems.push(format!("{at}: formats is empty"));
            Vec::new()
        }
        Some(list) => formats_or_problems(list, &format!("{at} formats"), problems),
        None => source_formats.to_vec(),
    };
    let convert = |text: &str, what: &str, problems: &mut Vec<String>| -> Option<String> {
        match convert_cell(
            CellRef::Text(text),
            spec.kind,
            decimal,
            &formats,
            out_format,
        ) {
            Ok(v) if v.is_empty() => {
                problems.push(format!("{at}: {what} is empty"));
                None
            }
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(format!("{at}: {what} {e}"));
                None
            }
        }
    };
    let source = match (&spec.column, &spec.value) {
        (Some(_), Some(_)) => {
            problems.push(format!(
                "{at} has both column and value; use column to read it from the file or value for a constant, not both"
            ));
            None
        }
        (None, None) => {
            problems.push(format!("{at} needs column = \"...\" or value = \"...\""));
            None
        }
        (Some(c), None) if c.trim().is_empty() => {
            problems.push(format!("{at}: the column name is empty"));
            None
        }
        (Some(c), None) => Some(FieldSource::Column(c.clone())),
        (None, Some(v)) => convert(v, "value", problems).map(FieldSource::Constant),
    };
    let default = match &spec.default {
        Some(_) if spec.value.is_some() => {
            problems.push(format!(
                "{at}: default only applies to a column, not to a constant value"
            ));
            None
        }
        Some(d) => convert(d, "default", problems),
        None => None,
    };
    if problems.len() > before {
        return None;
    }
    if matches!(field, "wolkvox_id" | "id") && spec.required == Some(false) {
        problems.push(format!(
            "{at}: required = false is not allowed; every obligation needs its {}",
            if field == "id" {
                "number"
            } else {
                "collections record"
            }
        ));
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
        FieldType::Text => value::cell_text_ref(cell, out_format),
        FieldType::Number => value::parse_number(cell, decimal).map(Cow::Owned),
        FieldType::Integer => value::parse_integer(cell, decimal).map(Cow::Owned),
        FieldType::Date => {
            value::parse_date_in(cell, formats, date_1904).map(|d| Cow::Owned(out_format.format(d)))
        }
    }
}

/// Which fields a request body carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyShape {
    /// All eight fields, unmapped ones as `""` (insert).
    Full,
    /// Only the mapped fields, so an update never blanks what the CRM holds.
    MappedOnly,
}

/// How one mapped field is filled for each row.
#[derive(Debug, Clone)]
struct ResolvedRule {
    rule: FieldRule,
    column: Option<usize>,
}

/// A mapping resolved against an input's header.
#[derive(Debug, Clone)]
pub struct Plan {
    operation: String,
    decimal: DecimalSeparator,
    date_format: DateFormat,
    /// Index 0 is `wolkvox_id`, then the eight fields in API order; `None`
    /// when the mapping leaves the field out.
    fields: Vec<Option<ResolvedRule>>,
    /// `(column index, name sent in form)`, in column order.
    form: Vec<(usize, String)>,
    send_form: bool,
    header: Vec<String>,
    shape: BodyShape,
    /// Also render the update body (upsert decides per row which to send).
    with_update_body: bool,
    /// Also hand out the values the report's charts need.
    with_report_fields: bool,
}

/// A row that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedRow {
    pub wolkvox_id: String,
    pub id: String,
    /// The exact JSON request body.
    pub body: String,
    /// The update (PUT) body, only mapped fields, when the plan asks for it.
    pub update_body: Option<String>,
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
    pub portfolio_type: Option<String>,
}

/// Why a row cannot be sent, cell by cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// What could be read of the row's identity, for the results file.
    pub wolkvox_id: String,
    pub id: String,
    pub message: String,
}

impl Plan {
    /// Resolves every column the mapping names against `header`. All missing
    /// columns are reported at once, each with the closest header.
    pub fn new(
        mapping: &Mapping,
        header: &Header,
        operation: &str,
        shape: BodyShape,
    ) -> Result<Plan, MappingError> {
        let mut problems = Vec::new();
        let names = &header.names;
        let normalized: Vec<String> = names.iter().map(|n| n.trim().to_lowercase()).collect();
        let find = |wanted: &str| -> Result<usize, String> {
            let w = wanted.trim().to_lowercase();
            if let Some(i) = normalized.iter().position(|n| *n == w) {
                return Ok(i);
            }
            let candidates = names
                .iter()
                .map(String::as_str)
                .filter(|n| !n.trim().is_empty());
            Err(match suggest::nearest(wanted, candidates) {
                Some(s) => format!("column \"{wanted}\" not found; did you mean \"{s}\"?"),
                None => format!(
                    "column \"{wanted}\" not found; the columns are {}",
                    crate::source::quoted_list(names)
                ),
            })
        };

        let mut fields: Vec<Option<ResolvedRule>> = vec![None; API_FIELDS.len()];
        let mut used = vec![false; names.len()];
        for rule in &mapping.rules {
            let slot = API_FIELDS
                .iter()
                .position(|f| *f == rule.field)
                .expect("known field");
            let column = match &rule.source {
                FieldSource::Column(c) => match find(c) {
                    Ok(i) => {
                        used[i] = true;
                        Some(i)
                    }
                    Err(e) => {
                        problems.push(format!("[fields] {}: {e}", rule.field));
                        continue;
                    }
                },
                FieldSource::Constant(_) => None,
            };
            fields[slot] = Some(ResolvedRule {
                rule: rule.clone(),
                column,
            });
        }

        let mut excluded = vec![false; names.len()];
        for x in &mapping.exclude {
            match find(x) {
                Ok(i) => excluded[i] = true,
                Err(e) => problems.push(format!("[form] exclude: {e}")),
            }
        }
        let mut renamed: Vec<Option<String>> = vec![None; names.len()];
        for (from, to) in &mapping.rename {
            match find(from) {
                Ok(i) if to.trim().is_empty() => problems.push(format!(
                    "[form] rename: the new name for \"{}\" is empty",
                    names[i]
                )),
                Ok(i) => renamed[i] = Some(to.trim().to_string()),
                Err(e) => problems.push(format!("[form] rename: {e}")),
            }
        }
        if !problems.is_empty() {
            return Err(MappingError(problems.join("\n")));
        }
        let form = (0..names.len())
            .filter(|&i| {
                !used[i]
                    && !excluded[i]
                    && !names[i].trim().is_empty()
                    && !crate::results::is_rejects_error_column(names, i)
            })
            .map(|i| {
                (
                    i,
                    renamed[i]
                        .clone()
                        .unwrap_or_else(|| names[i].trim().to_string()),
                )
            })
            .collect();
        Ok(Plan {
            operation: operation.to_string(),
            decimal: mapping.decimal,
            date_format: mapping.date_format.clone(),
            fields,
            form,
            send_form: mapping.extra_columns == ExtraColumns::All,
            header: names.clone(),
            shape,
            with_update_body: false,
            with_report_fields: false,
        })
    }

    /// Makes every mapped row carry its update body too (upsert mode).
    pub fn with_update_body(mut self) -> Plan {
        self.with_update_body = true;
        self
    }

    /// Makes every mapped row carry its [`ReportFields`] too (`--report`).
    pub fn with_report_fields(mut self) -> Plan {
        self.with_report_fields = true;
        self
    }

    /// Maps one row to its request body, or explains every cell at fault.
    pub fn map_row(&self, row: &Row) -> Result<MappedRow, RowError> {
        let mut values: [Option<Cow<'_, str>>; 9] = Default::default();
        let mut problems: Vec<String> = Vec::new();
        if let Some(p) = &row.problem {
            problems.push(p.clone());
        }
        for (slot, resolved) in self.fields.iter().enumerate() {
            let Some(r) = resolved else { continue };
            let value = match (&r.rule.source, r.column) {
                (FieldSource::Constant(v), _) => Ok(Cow::Borrowed(v.as_str())),
                (FieldSource::Column(_), Some(i)) => {
                    let cell = row.get(i);
                    match convert_cell_in(
                        cell,
                        r.rule.kind,
                        self.decimal,
                        &r.rule.formats,
                        &self.date_format,
                        row.date_1904,
                    ) {
                        Ok(v) if v.is_empty() => match &r.rule.default {
                            Some(d) => Ok(Cow::Borrowed(d.as_str())),
                            None if r.rule.required => {
                                Err(format!("column \"{}\" is empty", self.header[i].trim()))
                            }
                            None => Ok(v),
                        },
                        Ok(v) => Ok(v),
                        Err(e) => Err(format!("column \"{}\": {e}", self.header[i].trim())),
                    }
                }
                (FieldSource::Column(_), None) => unreachable!("columns are resolved in Plan::new"),
            };
            match value {
                Ok(v) => values[slot] = Some(v),
                Err(e) => problems.push(e),
            }
        }
        let mut form: Vec<(&str, Cow<'_, str>)> = Vec::new();
        if self.send_form {
            for (i, name) in &self.form {
                let cell = row.get(*i);
                if cell.is_blank() {
                    continue;
                }
                match value::cell_text_ref(cell, &self.date_format) {
                    Ok(v) => form.push((name.as_str(), v)),
                    Err(e) => problems.push(format!("column \"{}\": {e}", self.header[*i].trim())),
                }
            }
        }
        let identity = |slot: usize| -> String {
            match &values[slot] {
                Some(v) => v.to_string(),
                None => self.fields[slot]
                    .as_ref()
                    .and_then(|r| r.column)
                    .map(|i| raw_text(row.get(i)))
                    .unwrap_or_default(),
            }
        };
        let wolkvox_id = identity(0);
        let id = identity(1);
        if !problems.is_empty() {
            return Err(RowError {
                wolkvox_id,
                id,
                message: problems.join("; "),
            });
        }
        let body = self.render(&values, &form, self.shape);
        let update_body = self
            .with_update_body
            .then(|| self.render(&values, &form, BodyShape::MappedOnly));
        let report = self.with_report_fields.then(|| self.report_fields(&values));
        Ok(MappedRow {
            wolkvox_id,
            id,
            body,
            update_body,
            report,
        })
    }

    /// The charts' values, from the fields already converted to the API's
    /// spelling: plain digits for a number or integer field. A field mapped
    /// as text is read as the mapping's numbers are.
    fn report_fields(&self, values: &[Option<Cow<'_, str>>; 9]) -> ReportFields {
        let number = |slot: usize| -> Option<f64> {
            let v = values[slot].as_deref()?.trim();
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
        // An integer field is plain digits: read it as one, not as a float.
        let days = values[8].as_deref().and_then(|v| v.parse::<i64>().ok());
        ReportFields {
            total_balance: number(3),
            days_delay: days.or_else(|| number(8).map(|d| d.round() as i64)),
            portfolio_type: values[4]
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        }
    }

    fn render(
        &self,
        values: &[Option<Cow<'_, str>>; 9],
        form: &[(&str, Cow<'_, str>)],
        shape: BodyShape,
    ) -> String {
        let body = Body {
            plan: self,
            values,
            form,
            shape,
        };
        serde_json::to_string(&body).expect("strings always serialise")
    }
}

/// A cell as plain text, for identifying a row whose cells failed to convert.
fn raw_text(cell: CellRef<'_>) -> String {
    match cell {
        CellRef::Empty => String::new(),
        CellRef::Text(s) => s.trim().to_string(),
        CellRef::Number(n) => value::format_float(n),
        CellRef::Int(i) => i.to_string(),
        CellRef::Bool(b) => b.to_string(),
        CellRef::Date(d) => d.to_string(),
        CellRef::Error(e) => e.to_string(),
    }
}

struct Body<'a> {
    plan: &'a Plan,
    values: &'a [Option<Cow<'a, str>>; 9],
    form: &'a [(&'a str, Cow<'a, str>)],
    shape: BodyShape,
}

struct Fields<'a>(&'a Body<'a>);
struct Form<'a>(&'a [(&'a str, Cow<'a, str>)]);

impl serde::Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("operation", &self.plan.operation)?;
        m.serialize_entry("wolkvox_id", self.values[0].as_deref().unwrap_or(""))?;
        m.serialize_entry("fields", &Fields(self))?;
        m.end()
    }
}

impl serde::Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let body = self.0;
        let mut m = s.serialize_map(None)?;
        for (slot, name) in API_FIELDS.iter().enumerate().skip(1) {
            match (&body.values[slot], body.shape) {
                (Some(v), _) => m.serialize_entry(name, v)?,
                (None, BodyShape::Full) => m.serialize_entry(name, "")?,
                (None, BodyShape::MappedOnly) => {}
            }
        }
        if body.plan.send_form && (body.shape == BodyShape::Full || !body.form.is_empty()) {
            m.serialize_entry("form", &Form(body.form))?;
        }
        m.end()
    }
}

impl serde::Serialize for Form<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (name, value) in self.0 {
            seq.serialize_element(&FormEntry { name, value })?;
        }
        seq.end()
    }
}

#[derive(serde::Serialize)]
struct FormEntry<'a> {
    name: &'a str,
    value: &'a str,
}

#[cfg(test)]
mod tests;
