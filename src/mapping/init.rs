//! `wolkvox-import mapping init`: a starter mapping for a file, with its
//! headers matched to the API's fields by the names Spanish- and
//! English-speaking banks use.

use super::suggest::fold;
use crate::inspect::{profile, ColumnProfile, ColumnType, Profile};
use crate::source::{SourceInfo, SourceOptions};
use crate::tr;
use crate::value::DecimalSeparator;
use std::fmt::Write as _;
use std::path::Path;

/// Written when no operation is given; sending refuses it, a dry run shows it.
pub const OPERATION_PLACEHOLDER: &str = "CHANGE_ME";

/// True for the placeholder however it was retyped (`change_me`, spaces
/// around it): sending it would reach the CRM as an operation nobody has.
pub fn is_placeholder_operation(operation: &str) -> bool {
    operation.trim().eq_ignore_ascii_case(OPERATION_PLACEHOLDER)
}

/// Header names (folded: lower case, no accents, `_` as space) for each API
/// field, best first.
const SYNONYMS: &[(&str, &[&str])] = &[
    (
        "wolkvox_id",
        &[
            "wolkvox id",
            "id wolkvox",
            "id registro",
            "registro",
            "id record",
            "record id",
            "wolkvox record",
            "id cliente wolkvox",
        ],
    ),
    (
        "id",
        &[
            "nro obligacion",
            "numero obligacion",
            "no obligacion",
            "num obligacion",
            "numero de obligacion",
            "id obligacion",
            "obligacion",
            "obligation id",
            "obligation",
            "obligation number",
            "nro credito",
            "numero credito",
            "credito",
            "nro cuenta",
            "numero cuenta",
            "account number",
            "id",
        ],
    ),
    (
        "name",
        &[
            "producto",
            "nombre producto",
            "nombre",
            "product",
            "product name",
            "name",
        ],
    ),
    (
        "total_balance",
        &[
            "saldo total",
            "total balance",
            "saldo",
            "balance",
            "deuda total",
            "valor total",
            "saldo deuda",
            "total debt",
        ],
    ),
    (
        "portfolio_type",
        &[
            "tipo cartera",
            "tipo de cartera",
            "portfolio type",
            "cartera",
            "segmento",
            "portfolio",
        ],
    ),
    (
        "last_pay",
        &[
            "valor ultimo pago",
            "ultimo pago",
            "monto ultimo pago",
            "valor ult pago",
            "last pay",
            "last payment",
            "last payment amount",
        ],
    ),
    (
        "last_pay_date",
        &[
            "fecha ultimo pago",
            "fecha ult pago",
            "fecha de ultimo pago",
            "last pay date",
            "last payment date",
        ],
    ),
    (
        "expiring_date",
        &[
            "fecha vencimiento",
            "fecha de vencimiento",
            "vencimiento",
            "fecha venc",
            "expiring date",
            "expiration date",
            "due date",
        ],
    ),
    (
        "days_delay",
        &[
            "dias mora",
            "dias de mora",
            "dias en mora",
            "mora",
            "dias vencidos",
            "days delay",
            "days past due",
            "dpd",
        ],
    ),
];

fn field_type(field: &str) -> &'static str {
    match field {
        "total_balance" | "last_pay" => "number",
        "days_delay" => "integer",
        "last_pay_date" | "expiring_date" => "date",
        _ => "text",
    }
}

/// Picks, for each API field, the first column whose folded header is one of
/// its names; each column serves one field at most, and a column whose name
/// another column shares serves none (a mapping could not tell them apart).
pub fn match_columns(headers: &[String]) -> Vec<(&'static str, Option<usize>)> {
    let folded: Vec<String> = headers.iter().map(|h| fold(h)).collect();
    let shared = |i: usize| {
        let name = headers[i].trim().to_lowercase();
        !name.is_empty()
            && headers
                .iter()
                .enumerate()
                .any(|(j, h)| j != i && h.trim().to_lowercase() == name)
    };
    let mut taken: Vec<bool> = (0..headers.len()).map(shared).collect();
    let mut out = Vec::new();
    for (field, names) in SYNONYMS {
        let mut found = None;
        'names: for name in *names {
            for (i, h) in folded.iter().enumerate() {
                if !taken[i] && h == name {
                    found = Some(i);
                    break 'names;
                }
            }
        }
        if let Some(i) = found {
            taken[i] = true;
        }
        out.push((*field, found));
    }
    out
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A path as a shell takes it: quoted when it holds anything but plain
/// characters.
fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_alphanumeric() || "._-/+,:@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Lines of a comment listing `names` as TOML strings, wrapped.
fn wrapped_names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::from("#  ");
    for name in names {
        let item = format!(" {},", toml_str(name));
        if line.len() + item.len() > 78 && line.len() > 3 {
            lines.push(std::mem::replace(&mut line, String::from("#  ")));
        }
        line.push_str(&item);
    }
    if line.len() > 3 {
        lines.push(line);
    }
    if let Some(last) = lines.last_mut() {
        last.pop();
    }
    lines
}

/// A starter mapping, and what a person should hear about it even when the
/// text goes to a file.
#[derive(Debug, Clone)]
pub struct Starter {
    /// The mapping file's text, with its comments.
    pub text: String,
    /// What to tell the person besides (e.g. no column looked like a
    /// record id).
    pub notes: Vec<String>,
}

/// The starter mapping for `path`; with `lookup`, joined to that records
/// export to find each row's `wolkvox_id`.
pub fn starter_mapping(
    path: &Path,
    sheet: Option<&str>,
    header_row: Option<u64>,
    operation: Option<&str>,
    lookup: Option<&Path>,
) -> Result<Starter, String> {
    let opts = SourceOptions {
        sheet: sheet.map(str::to_string),
        header_row,
        ..SourceOptions::default()
    };
    let p = profile(path, &opts)?;
    let headers: Vec<String> = p.columns.iter().map(|c| c.name.clone()).collect();
    let mut matched = match_columns(&headers);
    let mut notes = Vec::new();
    let join = match lookup {
        None => None,
        Some(l) => propose_join(path, &opts, &p, l, &mut notes)?.map(|j| (l, j)),
    };
    // With a join, wolkvox_id comes from it: a column that only looked like
    // a record id goes to form.
    let mut displaced = None;
    if join.is_some() {
        if let Some((_, col)) = matched.iter_mut().find(|(f, _)| *f == "wolkvox_id") {
            displaced = col.take();
        }
    }
    let mut out = String::new();
    write_title(&mut out, path);
    write_source(&mut out, &p);
    write_request(&mut out, operation);
    if let Some((file, j)) = &join {
        write_lookup(&mut out, file, j);
    }
    let _ = writeln!(out, "\n[fields]");
    for (field, col) in &matched {
        match (&join, *field) {
            (Some((file, j)), "wolkvox_id") => {
                write_joined_id(&mut out, file, j, displaced.map(|i| &p.columns[i]));
            }
            _ => write_field(&mut out, field, col.map(|i| &p.columns[i]), &mut notes),
        }
    }
    let mut used: Vec<usize> = matched.iter().filter_map(|(_, c)| *c).collect();
    if let Some((_, j)) = &join {
        used.extend(p.columns.iter().position(|c| c.name == j.column));
    }
    let same_names = p.header.same_names();
    for group in &same_names {
        notes.push(tr!(
            "init-note-same-name",
            file = path.display().to_string(),
            count = group.len(),
            name = p.header.names[group[0]].trim(),
            positions = crate::inspect::positions(&p.header, group)
        ));
    }
    write_form(&mut out, &p, &used, &same_names);
    Ok(Starter { text: out, notes })
}

/// The join proposed between `path` and the records export `lookup`, or a
/// note saying why there is none.
fn propose_join(
    path: &Path,
    opts: &SourceOptions,
    p: &Profile,
    lookup: &Path,
    notes: &mut Vec<String>,
) -> Result<Option<super::join::Join>, String> {
    let mut opts = opts.clone();
    if p.needs_windows_1252 {
        opts.encoding = Some(encoding_rs::WINDOWS_1252);
    }
    let proposal = super::join::propose(path, &opts, lookup)?;
    let (input, lookup) = (path.display().to_string(), lookup.display().to_string());
    match proposal {
        super::join::Proposal::Join(j) => Ok(Some(j)),
        super::join::Proposal::Nothing(near) => {
            notes.push(match near {
                None => tr!("init-note-no-join", input = input, lookup = lookup),
                Some(n) => tr!(
                    "init-note-no-join-near",
                    input = input,
                    lookup = lookup,
                    column = n.column,
                    key = n.key,
                    found = n.found,
                    sampled = n.sampled
                ),
            });
            Ok(None)
        }
    }
}

/// The comment that opens the file: what it is for and how to check it.
fn write_title(out: &mut String, path: &Path) {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let _ = writeln!(out, "# {}", tr!("init-title", file = file_name));
    let _ = writeln!(out, "# {}", tr!("init-check"));
    let _ = writeln!(
        out,
        "#   wolkvox-import import {} --mapping {} --dry-run",
        shell_word(&path.display().to_string()),
        shell_word(&format!("{stem}.toml"))
    );
}

/// `[source]`: how the file was read, so the import reads it the same way.
fn write_source(out: &mut String, p: &Profile) {
    let _ = writeln!(out, "\n[source]");
    match &p.info {
        SourceInfo::Sheet(s) => {
            let _ = writeln!(out, "sheet = {}", toml_str(&s.sheet));
        }
        SourceInfo::Csv(c) => {
            let d = match c.delimiter {
                b'\t' => "\\t".to_string(),
                d => (d as char).to_string(),
            };
            let _ = writeln!(out, "delimiter = {}", toml_str(&d));
            if p.needs_windows_1252 {
                let _ = writeln!(out, "encoding = \"windows-1252\"");
            }
        }
    }
    if p.header_row != 1 {
        let _ = writeln!(out, "header_row = {}", p.header_row);
    }
    if p.decimal == DecimalSeparator::Comma {
        let _ = writeln!(out, "decimal_separator = \",\"");
    }
    let mut date_formats: Vec<&String> = Vec::new();
    for f in p.columns.iter().flat_map(|c| &c.date_formats) {
        if !date_formats.contains(&f) {
            date_formats.push(f);
        }
    }
    if !date_formats.is_empty() {
        let list: Vec<String> = date_formats.iter().map(|f| toml_str(f)).collect();
        let _ = writeln!(out, "date_formats = [{}]", list.join(", "));
    }
}

/// `[request]`: the operation given, or a placeholder to replace.
fn write_request(out: &mut String, operation: Option<&str>) {
    let _ = writeln!(out, "\n[request]");
    match operation {
        Some(op) => {
            let _ = writeln!(out, "operation = {}", toml_str(op));
        }
        None => {
            let _ = writeln!(
                out,
                "# {}",
                tr!("init-operation", placeholder = OPERATION_PLACEHOLDER)
            );
            let _ = writeln!(out, "operation = \"{OPERATION_PLACEHOLDER}\"");
        }
    }
}

/// `wolkvox_id` found through the proposed join.
fn write_joined_id(
    out: &mut String,
    file: &Path,
    j: &super::join::Join,
    displaced: Option<&ColumnProfile>,
) {
    let _ = writeln!(
        out,
        "wolkvox_id = {{ column = {}, lookup = {} }}",
        toml_str(&j.column),
        toml_str(&super::join::lookup_name(file))
    );
    if let Some(c) = displaced {
        let _ = writeln!(out, "# {}", tr!("init-displaced", column = c.name.as_str()));
    }
}

/// One line of `[fields]`: the column that matched `field`, or a comment
/// on what to write when none did.
fn write_field(
    out: &mut String,
    field: &str,
    column: Option<&ColumnProfile>,
    notes: &mut Vec<String>,
) {
    match column {
        Some(c) => {
            let wanted = field_type(field);
            // Optional fields are often blank in bank files (no payment
            // yet): the starter does not refuse those rows.
            let line = match (wanted, field_is_required(field)) {
                ("text", true) => toml_str(&c.name),
                ("text", false) => {
                    format!("{{ column = {}, required = false }}", toml_str(&c.name))
                }
                (_, true) => {
                    format!("{{ column = {}, type = \"{wanted}\" }}", toml_str(&c.name))
                }
                (_, false) => format!(
                    "{{ column = {}, type = \"{wanted}\", required = false }}",
                    toml_str(&c.name)
                ),
            };
            if wanted == "date" && c.kind == ColumnType::Text {
                let _ = writeln!(
                    out,
                    "# {}",
                    tr!("init-not-dates", column = toml_str(&c.name))
                );
            }
            let _ = writeln!(out, "{field} = {line}");
        }
        None if field == "wolkvox_id" => {
            for line in tr!("init-wolkvox-id-help").lines() {
                let _ = writeln!(out, "# {line}");
            }
            notes.push(tr!("init-note-no-record-id"));
        }
        None if field_is_required(field) => {
            let _ = writeln!(out, "# {}", tr!("init-required", field = field));
            let _ = writeln!(out, "# {}", tr!("init-field-example", field = field));
        }
        None => {
            let _ = writeln!(out, "# {}", tr!("init-field-unmatched", field = field));
        }
    }
}

/// `[form]`: every column no field took, listed so a person can exclude
/// some; columns that share a name are left out, with a comment saying why.
fn write_form(out: &mut String, p: &Profile, used: &[usize], same_names: &[Vec<usize>]) {
    let columns = &p.columns;
    let _ = writeln!(out, "\n[form]");
    let shared = |i: usize| same_names.iter().any(|g| g.contains(&i));
    let unmatched: Vec<&str> = columns
        .iter()
        .enumerate()
        .filter(|(i, c)| !used.contains(i) && !c.name.trim().is_empty() && !shared(*i))
        .map(|(_, c)| c.name.as_str())
        .collect();
    if unmatched.is_empty() {
        if same_names.is_empty() {
            let _ = writeln!(out, "# {}", tr!("init-form-all-matched"));
        }
    } else {
        let _ = writeln!(out, "# {}", tr!("init-form-unmatched"));
        let _ = writeln!(out, "# {}", tr!("init-form-exclude"));
        for line in wrapped_names(unmatched.iter().copied()) {
            let _ = writeln!(out, "{line}");
        }
    }
    let _ = writeln!(out, "extra_columns = \"all\"");
    if same_names.is_empty() {
        let _ = writeln!(out, "exclude = []");
        return;
    }
    for group in same_names {
        let _ = writeln!(
            out,
            "# {}",
            tr!(
                "init-same-name",
                count = group.len(),
                name = p.header.names[group[0]].trim(),
                positions = crate::inspect::positions(&p.header, group)
            )
        );
    }
    let _ = writeln!(out, "# {}", tr!("init-same-name-fix"));
    let names: Vec<String> = same_names
        .iter()
        .map(|g| toml_str(p.header.names[g[0]].trim()))
        .collect();
    let _ = writeln!(out, "exclude = [{}]", names.join(", "));
}

/// The `[lookups.NAME]` table of a proposed join.
fn write_lookup(out: &mut String, file: &Path, j: &super::join::Join) {
    let name = super::join::lookup_name(file);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "# {}",
        tr!("init-lookup-from", file = file.display().to_string())
    );
    let (column, key) = (j.column.as_str(), j.key.as_str());
    if !j.by_name {
        let (found, sampled) = (j.found, j.sampled);
        let line = match j.normalize {
            super::config::Normalize::Exact => tr!(
                "init-lookup-found",
                found = found,
                sampled = sampled,
                column = column,
                key = key
            ),
            n => tr!(
                "init-lookup-found-normalized",
                found = found,
                sampled = sampled,
                column = column,
                key = key,
                normalize = n.as_str()
            ),
        };
        let _ = writeln!(out, "# {line}");
    } else {
        let _ = writeln!(
            out,
            "# {}",
            tr!("init-lookup-by-name", column = column, key = key)
        );
        let check = if j.found > 0 {
            tr!(
                "init-lookup-by-name-few",
                found = j.found,
                sampled = j.sampled
            )
        } else {
            tr!("init-lookup-by-name-check")
        };
        let _ = writeln!(out, "# {check}");
    }
    let _ = writeln!(out, "[lookups.{name}]");
    let _ = writeln!(out, "# {}", tr!("init-lookup-relative"));
    let _ = writeln!(out, "file = {}", toml_str(&file.to_string_lossy()));
    if let Some(sheet) = &j.sheet {
        let _ = writeln!(out, "sheet = {}", toml_str(sheet));
    }
    if j.windows_1252 {
        let _ = writeln!(out, "encoding = \"windows-1252\"");
    }
    let _ = writeln!(out, "key = {}", toml_str(&j.key));
    match &j.value {
        Some(v) => {
            let _ = writeln!(out, "value = {}", toml_str(v));
        }
        None => {
            let _ = writeln!(out, "# {}", tr!("init-lookup-no-value"));
            let _ = writeln!(out, "value = \"wolkvox_id\"");
        }
    }
    if j.normalize != super::config::Normalize::Exact {
        let _ = writeln!(out, "normalize = \"{}\"", j.normalize.as_str());
    }
}

fn field_is_required(field: &str) -> bool {
    matches!(field, "wolkvox_id" | "id")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(headers: &[&str], field: &str) -> Option<usize> {
        let h: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
        match_columns(&h)
            .into_iter()
            .find(|(f, _)| *f == field)
            .and_then(|(_, c)| c)
    }

    #[test]
    fn every_api_field_has_its_names_in_the_apis_order() {
        let fields: Vec<&str> = SYNONYMS.iter().map(|(field, _)| *field).collect();
        assert_eq!(fields, crate::mapping::API_FIELDS);
    }

    #[test]
    fn spanish_and_english_headers_match() {
        let h = [
            "ID Registro",
            "Nro Obligación",
            "Saldo Total",
            "Días Mora",
            "Fecha Vencimiento",
            "Ciudad",
        ];
        assert_eq!(idx(&h, "wolkvox_id"), Some(0));
        assert_eq!(idx(&h, "id"), Some(1));
        assert_eq!(idx(&h, "total_balance"), Some(2));
        assert_eq!(idx(&h, "days_delay"), Some(3));
        assert_eq!(idx(&h, "expiring_date"), Some(4));
        assert_eq!(idx(&h, "name"), None);
        assert_eq!(idx(&["saldo_total"], "total_balance"), Some(0));
        assert_eq!(idx(&["Total Balance"], "total_balance"), Some(0));
        assert_eq!(idx(&["DIAS_DE_MORA"], "days_delay"), Some(0));
    }

    #[test]
    fn paths_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(shell_word("samples/cartera.xlsx"), "samples/cartera.xlsx");
        assert_eq!(shell_word("Cartera junio.xlsx"), "'Cartera junio.xlsx'");
        assert_eq!(shell_word("it's.csv"), "'it'\\''s.csv'");
    }

    #[test]
    fn unmatched_names_wrap_as_a_toml_list() {
        let names: Vec<String> = (0..12).map(|i| format!("Columna número {i}")).collect();
        let lines = wrapped_names(names.iter().map(String::as_str));
        assert!(lines.len() > 1);
        assert!(lines
            .iter()
            .all(|l| l.starts_with("#   \"") && l.len() <= 80));
        let joined: String = lines.iter().map(|l| &l[3..]).collect::<Vec<_>>().join("");
        let parsed: toml::Value = toml::from_str(&format!("x = [{joined}]")).unwrap();
        assert_eq!(parsed["x"].as_array().unwrap().len(), 12);
    }

    #[test]
    fn a_column_serves_one_field() {
        // "Saldo" would fit total_balance; "Saldo Total" is the better match
        // and "Saldo" must not be reused.
        let h = ["Saldo", "Saldo Total"];
        assert_eq!(idx(&h, "total_balance"), Some(1));
    }
}
