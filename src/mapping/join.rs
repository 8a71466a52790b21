//! `mapping init INPUT --lookup FILE`: which column of the input finds its
//! rows in which column of a records export, so the starter mapping can
//! propose the `[lookups]` table that gives each row its `wolkvox_id`.
//!
//! A pair of columns is proposed when the input's values are found in the
//! other file (the strongest evidence: it is what the import will do), or,
//! failing that, when both are named like a customer's document number.

use super::config::Normalize;
use super::lookup::key_text;
use super::suggest::fold;
use crate::source::{Source, SourceInfo, SourceOptions};
use std::collections::HashMap;
use std::path::Path;

/// Rows of the input whose keys are looked for.
const INPUT_SAMPLE_ROWS: u64 = 2_000;
/// Rows of the lookup file read at most: enough for any records export
/// that a lookup should hold, and a bound on `mapping init`'s time.
const LOOKUP_ROWS: u64 = 2_000_000;
/// Shorter keys (days, ratings, small codes) match by chance.
const MIN_KEY_LEN: usize = 4;
/// Columns compared on each side, at most (bit masks).
const MAX_COLUMNS: usize = 128;
/// A pair is proposed by its values when at least this share of the
/// input column's values is found in the other file...
const MIN_SHARE: f64 = 0.5;
/// ...and at least this many of them (all of them, when fewer are looked
/// at): two values in common prove little.
const MIN_FOUND: usize = 3;

/// Header names (folded) of a customer's document number, in banks' files
/// and in CRM exports.
const DOCUMENT_NAMES: &[&str] = &[
    "cedula",
    "nro cedula",
    "numero cedula",
    "documento",
    "nro documento",
    "no documento",
    "num documento",
    "numero documento",
    "numero de documento",
    "documento identidad",
    "documento de identidad",
    "identificacion",
    "nro identificacion",
    "numero identificacion",
    "numero de identificacion",
    "nit",
    "cc",
    "cedula nit",
    "nit cedula",
    "id cliente",
    "cliente id",
    "codigo cliente",
    "document",
    "document number",
    "customer id",
];

/// Header names (folded) of the CRM's record id in its export.
const RECORD_ID_NAMES: &[&str] = &[
    "wolkvox id",
    "id wolkvox",
    "wolkvox",
    "id expediente",
    "expediente id",
    "expediente",
    "id registro",
    "registro",
    "record id",
    "id record",
    "id",
    "_id",
];

/// A join `mapping init` proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    /// The input's column holding the key, as its header spells it.
    pub column: String,
    /// The lookup file's key column and value column, as its header spells
    /// them; `value` is `None` when no column is named like a record id.
    pub key: String,
    pub value: Option<String>,
    pub normalize: Normalize,
    /// The columns were paired by their names alone: too few of their
    /// values were found in both (`found`, compared as digits) to pair them
    /// by their values.
    pub by_name: bool,
    /// Input values looked for, and how many were found.
    pub sampled: usize,
    pub found: usize,
    /// The lookup file's sheet, for a workbook.
    pub sheet: Option<String>,
    /// The lookup file is a CSV that is not UTF-8.
    pub windows_1252: bool,
}

fn open(path: &Path, opts: &SourceOptions) -> Result<(Source, bool), String> {
    match Source::open(path, opts) {
        Ok(s) => Ok((s, false)),
        Err(e) if opts.encoding.is_none() && e.is_not_utf8() => {
            let opts = SourceOptions {
                encoding: Some(encoding_rs::WINDOWS_1252),
                ..opts.clone()
            };
            Source::open(path, &opts)
                .map(|s| (s, true))
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

const NORMALIZE: [Normalize; 3] = [Normalize::Exact, Normalize::Casefold, Normalize::Digits];

/// What is known of one input value: the columns that hold it, and the
/// lookup columns it was found in.
#[derive(Default)]
struct Seen {
    input: u128,
    lookup: u128,
}

/// What `mapping init --lookup` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proposal {
    Join(Join),
    /// No pair of columns fits: none is named like a document number on
    /// both sides, and too few values are shared. The pair that shares the
    /// most, when any value is shared at all.
    Nothing(Option<Near>),
}

/// Two columns that share some values, too few to pair them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Near {
    pub column: String,
    pub key: String,
    pub found: usize,
    pub sampled: usize,
}

/// Proposes how `input` (read with `input_opts`) joins `lookup`.
pub fn propose(
    input: &Path,
    input_opts: &SourceOptions,
    lookup: &Path,
) -> Result<Proposal, String> {
    let (in_names, mut values) = sample_input(input, input_opts)?;
    let lk = scan_lookup(lookup, &mut values)?;
    let width = in_names.len().min(MAX_COLUMNS);
    let counts = Counts::of(&values, width, lk.width);
    if let Some((i, j, n)) = counts.best(&in_names) {
        return Ok(Proposal::Join(Join {
            column: in_names[i].clone(),
            key: lk.names[j].clone(),
            value: lk.value,
            normalize: NORMALIZE[n],
            by_name: false,
            sampled: counts.distinct[i][n],
            found: counts.found(i, j, n),
            sheet: lk.sheet,
            windows_1252: lk.windows_1252,
        }));
    }

    // Too few values in common: columns named like a document number on
    // both sides, compared as digits (how such numbers differ between
    // systems), with what their values share told.
    let digits = NORMALIZE.len() - 1;
    let by_name = in_names
        .iter()
        .position(|n| document_like(n))
        .and_then(|i| {
            let c = &in_names[i];
            let j = lk
                .names
                .iter()
                .position(|k| fold(k) == fold(c))
                .or_else(|| lk.names.iter().position(|k| document_like(k)))?;
            Some((i, j))
        });
    let Some((i, j)) = by_name else {
        let near = counts.nearest().map(|(i, j, n, found)| Near {
            column: in_names[i].clone(),
            key: lk.names[j].clone(),
            found,
            sampled: counts.distinct[i][n],
        });
        return Ok(Proposal::Nothing(near));
    };
    let compared = i < width && j < lk.width;
    Ok(Proposal::Join(Join {
        column: in_names[i].clone(),
        key: lk.names[j].clone(),
        value: lk.value,
        normalize: Normalize::Digits,
        by_name: true,
        sampled: if compared {
            counts.distinct[i][digits]
        } else {
            0
        },
        found: if compared {
            counts.found(i, j, digits)
        } else {
            0
        },
        sheet: lk.sheet,
        windows_1252: lk.windows_1252,
    }))
}

/// Sampled values, once per normalisation, each with what is known of it.
type Values = [HashMap<String, Seen>; 3];

/// The input's header and its sampled values, once per normalisation, each
/// with the columns that hold it.
fn sample_input(input: &Path, opts: &SourceOptions) -> Result<(Vec<String>, Values), String> {
    let (mut src, _) = open(input, opts)?;
    let names = src.header().names.clone();
    let width = names.len().min(MAX_COLUMNS);
    let mut values: Values = Default::default();
    let mut read = 0;
    while let Some(row) = src.next_row().map_err(|e| e.to_string())? {
        read += 1;
        if read > INPUT_SAMPLE_ROWS {
            break;
        }
        for i in 0..width {
            let Ok(text) = key_text(row.get(i)) else {
                continue;
            };
            for (n, norm) in NORMALIZE.iter().enumerate() {
                let k = norm.apply(&text);
                if k.len() >= MIN_KEY_LEN {
                    values[n].entry(k.into_owned()).or_default().input |= 1u128 << i;
                }
            }
        }
    }
    Ok((names, values))
}

/// What reading the lookup file told.
struct LookupScan {
    names: Vec<String>,
    width: usize,
    /// The column named like a record id, if any: the join's value.
    value: Option<String>,
    sheet: Option<String>,
    windows_1252: bool,
}

/// Reads every cell of the lookup file and marks, in `values`, the lookup
/// columns each input value was found in.
fn scan_lookup(lookup: &Path, values: &mut Values) -> Result<LookupScan, String> {
    let (mut lk, windows_1252) = open(lookup, &SourceOptions::default())?;
    let names = lk.header().names.clone();
    let sheet = match lk.info() {
        SourceInfo::Sheet(s) => Some(s.sheet.clone()),
        SourceInfo::Csv(_) => None,
    };
    let value = names
        .iter()
        .find(|n| RECORD_ID_NAMES.contains(&fold(n).as_str()))
        .cloned();
    let width = names.len().min(MAX_COLUMNS);
    let mut read = 0;
    while let Some(row) = lk.next_row().map_err(|e| e.to_string())? {
        read += 1;
        if read > LOOKUP_ROWS {
            break;
        }
        for (j, name) in names.iter().enumerate().take(width) {
            if value.as_ref() == Some(name) {
                continue;
            }
            let Ok(text) = key_text(row.get(j)) else {
                continue;
            };
            for (n, norm) in NORMALIZE.iter().enumerate() {
                if let Some(seen) = values[n].get_mut(norm.apply(&text).as_ref()) {
                    seen.lookup |= 1u128 << j;
                }
            }
        }
    }
    Ok(LookupScan {
        names,
        width,
        value,
        sheet,
        windows_1252,
    })
}

/// (input column, lookup column, normalisation) → values found; and the
/// distinct values of each input column per normalisation.
struct Counts {
    found: HashMap<(usize, usize, usize), usize>,
    distinct: Vec<[usize; 3]>,
}

impl Counts {
    fn of(values: &Values, width: usize, lk_width: usize) -> Counts {
        let mut found: HashMap<(usize, usize, usize), usize> = HashMap::new();
        let mut distinct = vec![[0usize; 3]; width];
        for (n, map) in values.iter().enumerate() {
            for seen in map.values() {
                for (i, d) in distinct.iter_mut().enumerate() {
                    if seen.input & (1u128 << i) == 0 {
                        continue;
                    }
                    d[n] += 1;
                    for j in 0..lk_width {
                        if seen.lookup & (1u128 << j) != 0 {
                            *found.entry((i, j, n)).or_default() += 1;
                        }
                    }
                }
            }
        }
        Counts { found, distinct }
    }

    fn found(&self, i: usize, j: usize, n: usize) -> usize {
        self.found.get(&(i, j, n)).copied().unwrap_or(0)
    }

    /// The best pair: the largest share of the input's values found, then
    /// the most values; for that pair, the mildest normalisation that finds
    /// (almost) as many as the strongest.
    fn best(&self, in_names: &[String]) -> Option<(usize, usize, usize)> {
        let share = |(i, _, n): (usize, usize, usize), f: usize| {
            f as f64 / self.distinct[i][n].max(1) as f64
        };
        let (i, j) = self
            .found
            .iter()
            .filter(|(&(i, _, n), &f)| {
                f >= MIN_FOUND.min(self.distinct[i][n]) && share((i, 0, n), f) >= MIN_SHARE
            })
            .max_by(|(&a, &fa), (&b, &fb)| {
                share(a, fa)
                    .total_cmp(&share(b, fb))
                    .then(fa.cmp(&fb))
                    // Ties go to the column named like a document.
                    .then(document_like(&in_names[a.0]).cmp(&document_like(&in_names[b.0])))
                    .then(b.cmp(&a))
            })
            .map(|(&(i, j, _), _)| (i, j))?;
        let most = (0..3).map(|n| self.found(i, j, n)).max().unwrap_or(0);
        let n = (0..3)
            .find(|&n| self.found(i, j, n) * 100 >= most * 95)
            .unwrap_or(2);
        Some((i, j, n))
    }

    /// The pair that shares the most values (then the largest share of
    /// them), with its normalisation and how many: `None` when no value is
    /// shared.
    fn nearest(&self) -> Option<(usize, usize, usize, usize)> {
        let share = |(i, _, n): (usize, usize, usize), f: usize| {
            f as f64 / self.distinct[i][n].max(1) as f64
        };
        self.found
            .iter()
            .filter(|(_, &f)| f > 0)
            .max_by(|(&a, &fa), (&b, &fb)| {
                fa.cmp(&fb)
                    .then(share(a, fa).total_cmp(&share(b, fb)))
                    .then(b.cmp(&a))
            })
            .map(|(&(i, j, n), &f)| (i, j, n, f))
    }
}

fn document_like(name: &str) -> bool {
    DOCUMENT_NAMES.contains(&fold(name).as_str())
}

/// The `[lookups.NAME]` name for a file: its name, folded to letters,
/// digits and `_`.
pub fn lookup_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name: String = fold(&stem)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    name = name.trim_matches('_').to_string();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "registros_");
        name = name.trim_end_matches('_').to_string();
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_names_are_plain_keys() {
        assert_eq!(
            lookup_name(Path::new("data/Expedientes.csv")),
            "expedientes"
        );
        assert_eq!(
            lookup_name(Path::new("Export CRM (nov).xlsx")),
            "export_crm__nov"
        );
        assert_eq!(lookup_name(Path::new("2024.csv")), "registros_2024");
    }

    #[test]
    fn document_names() {
        assert!(document_like("Nro Documento"));
        assert!(document_like("Identificación"));
        assert!(document_like("CÉDULA"));
        assert!(!document_like("Nombre"));
    }
}
