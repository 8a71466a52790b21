//! Lookup tables: a second file that maps a key column to a value column, so
//! a row can be given a value its own file lacks. Above all `wolkvox_id`: a
//! bank's file names the customer's document, the CRM's export of its
//! collections records names the record that document belongs to.
//!
//! A table is read whole before the first row of the input, and refused (the
//! run stops, nothing sent) if it lacks a column or holds one key twice with
//! two values. Mapping a row then costs one hash lookup.
//!
//! Memory is bounded by the file's keys and values, not by how they are
//! spelled in it: every key and value lives in one text arena, each row is a
//! 16-byte entry of offsets into it, and the hash index holds 4-byte entry
//! numbers (about 5 bytes a slot, at most 8/7 of the keys rounded up to a
//! power of two). For N keys of K bytes and values of V bytes that is about
//! N × (K + V + 16) + 5 × 2^⌈log2(8N/7)⌉ bytes: 1,000,000 ten-digit keys with
//! 24-character ids take 50 MB plus 10 MB of index.

use super::config::{Duplicates, Normalize};
use super::{find_unique_column, Mapping, MappingError};
use crate::source::{Source, SourceInfo, SourceOptions};
use crate::tr;
use crate::value::{self, CellRef, DateFormat, DecimalSeparator};
use chrono::NaiveDate;
use hashbrown::{DefaultHashBuilder, HashTable};
use std::borrow::Cow;
use std::hash::BuildHasher;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// One `[lookups.NAME]` table as the mapping describes it, checked.
#[derive(Debug, Clone)]
pub struct LookupSpec {
    pub name: String,
    /// The file as the mapping writes it, for messages about rows.
    pub file: String,
    /// Where it is read from: `file` taken relative to the mapping's folder.
    pub path: PathBuf,
    pub source: SourceOptions,
    /// The key and value columns as the mapping spells them.
    pub key: String,
    pub value: String,
    pub normalize: Normalize,
    pub duplicates: Duplicates,
    /// How numbers and dates written as text in the value column are read.
    pub decimal: DecimalSeparator,
    pub date_formats: Vec<DateFormat>,
}

impl Normalize {
    /// The key a cell's text stands for. Borrows when there is nothing to
    /// change, which is the common case on the input's side.
    pub fn apply(self, text: &str) -> Cow<'_, str> {
        let t = text.trim();
        match self {
            Normalize::Exact => Cow::Borrowed(t),
            Normalize::Casefold if !t.chars().any(char::is_uppercase) => Cow::Borrowed(t),
            Normalize::Casefold => Cow::Owned(t.to_lowercase()),
            Normalize::Digits => {
                if !t.is_empty() && !t.starts_with('0') && t.bytes().all(|b| b.is_ascii_digit()) {
                    return Cow::Borrowed(t);
                }
                let mut out = String::with_capacity(t.len());
                let mut zero = false;
                for b in t.bytes().filter(u8::is_ascii_digit) {
                    if out.is_empty() && b == b'0' {
                        zero = true;
                    } else {
                        out.push(char::from(b));
                    }
                }
                if out.is_empty() && zero {
                    out.push('0');
                }
                Cow::Owned(out)
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Normalize::Exact => "exact",
            Normalize::Digits => "digits",
            Normalize::Casefold => "casefold",
        }
    }
}

/// The text a key cell is compared by, the same on both sides of the join:
/// a number cell as Excel shows it (`1020345678`, never `1.020345678E9`), a
/// date as `yyyy-mm-dd`.
pub fn key_text(cell: CellRef<'_>) -> Result<Cow<'_, str>, value::ValueError> {
    match cell {
        CellRef::Date(d) => Ok(Cow::Owned(d.format("%Y-%m-%d").to_string())),
        other => value::cell_text_ref(other, iso_date()),
    }
}

/// [`key_text`] for a key cell of the input, whose every digit matters as
/// an id's does: a number cell the spreadsheet rounded, or text in
/// scientific notation, is refused rather than looked up as it reads.
pub fn input_key_text(cell: CellRef<'_>) -> Result<Cow<'_, str>, value::ValueError> {
    match cell {
        CellRef::Number(_) => value::exact_text_ref(cell, iso_date()),
        CellRef::Text(_) => {
            value::check_not_scientific(cell)?;
            key_text(cell)
        }
        other => key_text(other),
    }
}

/// Parsed once: a format parsed per cell was most of a large table's load.
fn iso_date() -> &'static DateFormat {
    static ISO: std::sync::LazyLock<DateFormat> =
        std::sync::LazyLock::new(|| DateFormat::new("%Y-%m-%d").expect("valid"));
    &ISO
}

/// What kind of cell a stored value came from, kept in the top two bits of
/// its length so that a number cell is read as a number and a date cell as a
/// date, whatever the field's type and the lookup's separators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text = 0,
    /// `f64`, spelled by Rust's shortest round-trip formatting.
    Number = 1,
    Int = 2,
    /// `yyyy-mm-dd`.
    Date = 3,
}

const KIND_SHIFT: u32 = 30;
const LEN_MASK: u32 = (1 << KIND_SHIFT) - 1;

/// One row of the lookup file: its key at `start`, its value right after.
#[derive(Debug, Clone, Copy)]
struct Entry {
    start: u32,
    key_len: u32,
    /// Length in the low 30 bits, [`Kind`] in the top 2.
    value: u32,
    /// The row of the lookup file, for messages.
    row: u32,
}

impl Entry {
    fn value_len(self) -> usize {
        (self.value & LEN_MASK) as usize
    }

    fn kind(self) -> Kind {
        match self.value >> KIND_SHIFT {
            0 => Kind::Text,
            1 => Kind::Number,
            2 => Kind::Int,
            _ => Kind::Date,
        }
    }
}

/// A value found for a key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found<'a> {
    text: &'a str,
    kind: Kind,
    /// The lookup file's row that holds it.
    pub row: u64,
}

impl<'a> Found<'a> {
    /// The value as the cell it came from.
    pub fn cell(&self) -> CellRef<'a> {
        if self.text.is_empty() {
            return CellRef::Empty;
        }
        let parsed = match self.kind {
            Kind::Text => None,
            Kind::Number => self.text.parse().ok().map(CellRef::Number),
            Kind::Int => self.text.parse().ok().map(CellRef::Int),
            Kind::Date => NaiveDate::parse_from_str(self.text, "%Y-%m-%d")
                .ok()
                .map(CellRef::Date),
        };
        parsed.unwrap_or(CellRef::Text(self.text))
    }

    /// The value as text, as the lookup file shows it.
    pub fn text(&self) -> &'a str {
        self.text
    }
}

/// Two rows that give one key two values.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Conflict {
    /// The key, normalised.
    key: String,
    first_row: u64,
}

/// Keys and values in one arena, indexed by a hash table of entry numbers.
#[derive(Debug, Clone, Default)]
struct KeyIndex {
    text: String,
    entries: Vec<Entry>,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

/// A lookup file grown past what 32-bit offsets address.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TooLarge;

impl KeyIndex {
    fn with_capacity(keys: usize) -> KeyIndex {
        KeyIndex {
            entries: Vec::with_capacity(keys),
            index: HashTable::with_capacity(keys),
            ..KeyIndex::default()
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Heap bytes held, for the log line that states a table's memory.
    fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.index.allocation_size()
    }

    fn key_of(text: &str, e: Entry) -> &str {
        &text[e.start as usize..e.start as usize + e.key_len as usize]
    }

    fn value_of(text: &str, e: Entry) -> &str {
        let start = e.start as usize + e.key_len as usize;
        &text[start..start + e.value_len()]
    }

    /// Adds `key` (already normalised) → `value` from `row`. A key already
    /// present with the same value is accepted once more and changes
    /// nothing; with another value it is a [`Conflict`] unless `keep_first`.
    fn insert(
        &mut self,
        key: &str,
        value: &str,
        kind: Kind,
        row: u64,
        keep_first: bool,
    ) -> Result<Result<(), Conflict>, TooLarge> {
        let hash = self.hasher.hash_one(key);
        let KeyIndex {
            text,
            entries,
            index,
            hasher,
        } = self;
        let found = index
            .find(hash, |&i| Self::key_of(text, entries[i as usize]) == key)
            .copied();
        if let Some(i) = found {
            let first = entries[i as usize];
            if keep_first || (Self::value_of(text, first) == value && first.kind() == kind) {
                return Ok(Ok(()));
            }
            return Ok(Err(Conflict {
                key: key.to_string(),
                first_row: u64::from(first.row),
            }));
        }
        let start = text.len();
        let end = start + key.len() + value.len();
        if end > u32::MAX as usize
            || value.len() > LEN_MASK as usize
            || entries.len() >= u32::MAX as usize
        {
            return Err(TooLarge);
        }
        text.push_str(key);
        text.push_str(value);
        let number = entries.len() as u32;
        entries.push(Entry {
            start: start as u32,
            key_len: key.len() as u32,
            value: value.len() as u32 | ((kind as u32) << KIND_SHIFT),
            row: u32::try_from(row).unwrap_or(u32::MAX),
        });
        index.insert_unique(hash, number, |&i| {
            hasher.hash_one(Self::key_of(text, entries[i as usize]))
        });
        Ok(Ok(()))
    }

    /// The value stored for `key` (already normalised).
    fn get(&self, key: &str) -> Option<Found<'_>> {
        let hash = self.hasher.hash_one(key);
        let i = *self.index.find(hash, |&i| {
            Self::key_of(&self.text, self.entries[i as usize]) == key
        })?;
        let e = self.entries[i as usize];
        Some(Found {
            text: Self::value_of(&self.text, e),
            kind: e.kind(),
            row: u64::from(e.row),
        })
    }

    /// Gives back what growing left unused; the table is read-only from here.
    fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.entries.shrink_to_fit();
        let KeyIndex {
            text,
            entries,
            index,
            hasher,
        } = self;
        index.shrink_to_fit(|&i| hasher.hash_one(Self::key_of(text, entries[i as usize])));
    }
}

/// A lookup file read into memory.
#[derive(Debug, Clone)]
pub struct LookupTable {
    /// Its `[lookups.NAME]` name.
    pub name: String,
    /// The file as the mapping writes it.
    pub file: String,
    /// The key and value columns as the lookup file's header spells them.
    pub key_column: String,
    pub value_column: String,
    pub normalize: Normalize,
    pub decimal: DecimalSeparator,
    pub date_formats: Vec<DateFormat>,
    keys: KeyIndex,
    /// Keys the lookup file holds as number cells of more than 15 digits,
    /// normalised: its spreadsheet rounded them, so they are kept out of
    /// `keys` (they could name another document) and remembered, so that
    /// an input key equal to one is told why it finds nothing.
    rounded: KeyIndex,
    /// Key cells kept out of `keys` because their digits are not all there
    /// (rounded numbers, scientific notation), and the first one's row.
    untrusted: u64,
    first_untrusted_row: u64,
}

/// How a key cell of the input fared in a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<'a> {
    Found(Found<'a>),
    /// No row of the lookup file has this key.
    Missing,
    /// The cell normalises to nothing (`normalize = "digits"` and no digit).
    NoKey,
    /// The key is in the lookup file only as a number its spreadsheet
    /// rounded, in this row: it may belong to another document.
    Rounded {
        row: u64,
    },
}

impl LookupTable {
    /// A table from rows given in memory: `(row, key cell, value cell)`.
    /// What [`LookupTable::load`] does with a file, for tests and tools.
    pub fn from_cells<'c>(
        spec: &LookupSpec,
        rows: impl IntoIterator<Item = (u64, CellRef<'c>, CellRef<'c>)>,
    ) -> Result<LookupTable, String> {
        let mut table = LookupTable::empty(spec, &spec.key, &spec.value, 0);
        for (row, key, value) in rows {
            table.add(spec, row, key, value)?;
        }
        table.shrink();
        Ok(table)
    }

    fn shrink(&mut self) {
        self.keys.shrink();
        self.rounded.shrink();
    }

    fn empty(spec: &LookupSpec, key_column: &str, value_column: &str, keys: usize) -> LookupTable {
        LookupTable {
            name: spec.name.clone(),
            file: spec.file.clone(),
            key_column: key_column.trim().to_string(),
            value_column: value_column.trim().to_string(),
            normalize: spec.normalize,
            decimal: spec.decimal,
            date_formats: spec.date_formats.clone(),
            keys: KeyIndex::with_capacity(keys),
            rounded: KeyIndex::default(),
            untrusted: 0,
            first_untrusted_row: 0,
        }
    }

    /// Reads the lookup file named by `spec`. The error names the file and,
    /// where it is a row's fault, the row and the column, and says what to do.
    pub fn load(spec: &LookupSpec) -> Result<LookupTable, String> {
        let at = format!("[lookups.{}]", spec.name);
        let mut source = open(spec).map_err(|e| format!("{at} {e}"))?;
        let header = source.header().clone();
        let where_ = match source.info() {
            SourceInfo::Sheet(s) => tr!(
                "mapping-lookup-where-sheet",
                path = spec.path.display().to_string(),
                sheet = s.sheet.as_str()
            ),
            SourceInfo::Csv(_) => spec.path.display().to_string(),
        };
        let column = |setting: &str, wanted: &str| {
            find_unique_column(&header, wanted).map_err(|e| {
                tr!(
                    "mapping-lookup-column",
                    at = at.as_str(),
                    setting = setting,
                    place = where_.as_str(),
                    row = header.row,
                    error = e
                )
            })
        };
        let (k, v) = match (column("key", &spec.key), column("value", &spec.value)) {
            (Ok(k), Ok(v)) => (k, v),
            (Err(a), Err(b)) => return Err(format!("{a}\n{b}")),
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        let expected = source.estimated_rows().unwrap_or(0).min(1 << 26) as usize;
        let mut table = LookupTable::empty(spec, &header.names[k], &header.names[v], expected);
        let mut rows = 0u64;
        while let Some(row) = source.next_row().map_err(|e| format!("{at} {e}"))? {
            rows += 1;
            if let Some(p) = &row.problem {
                return Err(tr!(
                    "mapping-lookup-row-problem",
                    at = at.as_str(),
                    place = where_.as_str(),
                    row = row.number,
                    problem = p.text().replace("[source]", &at)
                ));
            }
            let (key, value) = (row.get(k), row.get(v));
            table
                .add(spec, row.number, key, value)
                .map_err(|e| format!("{at} {where_}, {e}"))?;
        }
        // A table with no key would make every row of the input invalid,
        // one "not in the file" at a time: refused whole, before any row
        // is read, as an empty file is.
        if rows == 0 {
            return Err(tr!(
                "mapping-lookup-no-rows",
                at = at.as_str(),
                place = where_.as_str()
            ));
        }
        if table.keys.is_empty() && table.untrusted == 0 {
            return Err(tr!(
                "mapping-lookup-no-keys",
                at = at.as_str(),
                place = where_.as_str(),
                rows = rows,
                column = table.key_column.as_str()
            ));
        }
        table.shrink();
        Ok(table)
    }

    /// Adds one row. The error is worded to follow "FILE, ".
    fn add(
        &mut self,
        spec: &LookupSpec,
        row: u64,
        key: CellRef<'_>,
        value: CellRef<'_>,
    ) -> Result<(), String> {
        // A CSV saved from a spreadsheet writes its error cells as text
        // (`#N/A` where a VLOOKUP found nothing): read as the error cells
        // they were, as a workbook's are.
        let (key, value) = (spreadsheet_error(key), spreadsheet_error(value));
        if self.set_aside_untrusted(spec, row, key)? {
            return Ok(());
        }
        let raw_key = key_text(key).map_err(|e| cell_error(row, &self.key_column, e))?;
        let normalized = spec.normalize.apply(&raw_key);
        if normalized.is_empty() {
            // A row with no key cannot be looked up, so it is not a problem.
            return Ok(());
        }
        let (stored, kind) =
            stored_value(value).map_err(|e| cell_error(row, &self.value_column, e))?;
        let keep_first = spec.duplicates == Duplicates::First;
        match self
            .keys
            .insert(&normalized, &stored, kind, row, keep_first)
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(c)) => Err(self.conflict_message(spec, row, &raw_key, &c, (&stored, kind))),
            Err(TooLarge) => Err(tr!("mapping-lookup-too-large", row = row)),
        }
    }

    /// Keeps a key cell whose digits are not all there (the spreadsheet
    /// rounded it, or wrote it in scientific notation) out of the table: it
    /// could name another document, so it never matches. Rounded ones are
    /// remembered, to say so. Whether the cell was set aside.
    fn set_aside_untrusted(
        &mut self,
        spec: &LookupSpec,
        row: u64,
        key: CellRef<'_>,
    ) -> Result<bool, String> {
        match key {
            CellRef::Number(n) if value::is_rounded_number(n) => {
                let written = value::format_float(n);
                let normalized = spec.normalize.apply(&written);
                if !normalized.is_empty() {
                    self.rounded
                        .insert(&normalized, "", Kind::Text, row, true)
                        .map_err(|TooLarge| tr!("mapping-lookup-too-large", row = row))?
                        .expect("the first row of a key is kept");
                }
                self.note_untrusted(row);
                Ok(true)
            }
            CellRef::Text(t) if value::is_scientific(t) => {
                self.note_untrusted(row);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Says that a key written `raw_key` in `row` gives another value than
    /// its first row did, and how to settle it.
    fn conflict_message(
        &self,
        spec: &LookupSpec,
        row: u64,
        raw_key: &str,
        c: &Conflict,
        (other, other_kind): (&str, Kind),
    ) -> String {
        let shown_value = |text: &str, kind: Kind| {
            let found = Found { text, kind, row: 0 };
            shown(found.cell())
        };
        let first = self.keys.get(&c.key).expect("the key is stored");
        let written = if raw_key.trim() == c.key {
            String::new()
        } else {
            format!(
                " {}",
                tr!("mapping-lookup-written", key = raw_key.trim(), row = row)
            )
        };
        let normalize = match spec.normalize {
            Normalize::Exact => String::new(),
            n => format!(", normalize = \"{}\"", n.as_str()),
        };
        tr!(
            "mapping-lookup-conflict",
            first = c.first_row,
            row = row,
            key = c.key.as_str(),
            written = written,
            column = self.key_column.as_str(),
            normalize = normalize,
            value_column = self.value_column.as_str(),
            one = shown_value(first.text, first.kind),
            other = shown_value(other, other_kind),
            name = spec.name.as_str()
        )
    }

    fn note_untrusted(&mut self, row: u64) {
        if self.untrusted == 0 {
            self.first_untrusted_row = row;
        }
        self.untrusted += 1;
    }

    /// Key cells kept out of the table because the spreadsheet had dropped
    /// digits of them, and the row of the first; `None` when there are none.
    pub fn untrusted_keys(&self) -> Option<(u64, u64)> {
        (self.untrusted > 0).then_some((self.untrusted, self.first_untrusted_row))
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Heap bytes the table holds.
    pub fn heap_bytes(&self) -> usize {
        self.keys.heap_bytes() + self.rounded.heap_bytes()
    }

    /// Looks up the key written in an input cell, normalised as the table's
    /// keys were.
    pub fn get(&self, key: &str) -> Lookup<'_> {
        let k = self.normalize.apply(key);
        if k.is_empty() {
            return Lookup::NoKey;
        }
        match self.keys.get(&k) {
            Some(f) => Lookup::Found(f),
            None if self.rounded.is_empty() => Lookup::Missing,
            None => match self.rounded.get(&k) {
                Some(r) => Lookup::Rounded { row: r.row },
                None => Lookup::Missing,
            },
        }
    }
}

/// The error values a spreadsheet writes in a cell it cannot compute, in
/// English and in Spanish (Excel and LibreOffice): what a CSV exported from
/// a sheet holds where its formula failed.
const ERROR_VALUES: &[&str] = &[
    "#N/A",
    "#REF!",
    "#VALUE!",
    "#NAME?",
    "#DIV/0!",
    "#NUM!",
    "#NULL!",
    "#SPILL!",
    "#CALC!",
    "#N/D",
    "#¡REF!",
    "#¡VALOR!",
    "#¿NOMBRE?",
    "#¡DIV/0!",
    "#¡NUM!",
    "#¡NULO!",
];

/// A text cell that holds nothing but a spreadsheet's error value, as that
/// error cell; any other cell as it is.
fn spreadsheet_error(cell: CellRef<'_>) -> CellRef<'_> {
    match cell {
        CellRef::Text(t) => {
            let t = t.trim();
            match ERROR_VALUES.iter().any(|e| e.eq_ignore_ascii_case(t)) {
                true => CellRef::Error(t),
                false => cell,
            }
        }
        other => other,
    }
}

/// A lookup cell that cannot be read, worded to follow "FILE, ".
fn cell_error(row: u64, column: &str, e: value::ValueError) -> String {
    tr!(
        "mapping-lookup-cell",
        row = row,
        column = column,
        error = e.to_string()
    )
}

/// A value cell as the table stores it: its text and the kind of cell it
/// came from.
fn stored_value(value: CellRef<'_>) -> Result<(Cow<'_, str>, Kind), value::ValueError> {
    Ok(match value {
        CellRef::Number(n) => (Cow::Owned(n.to_string()), Kind::Number),
        CellRef::Int(i) => (Cow::Owned(i.to_string()), Kind::Int),
        CellRef::Date(d) => (Cow::Owned(d.format("%Y-%m-%d").to_string()), Kind::Date),
        other => (value::cell_text_ref(other, iso_date())?, Kind::Text),
    })
}

/// A value as a person would see it in the cell, for messages.
fn shown(cell: CellRef<'_>) -> String {
    match cell {
        CellRef::Number(n) => value::format_float(n),
        CellRef::Date(d) => d.format("%d/%m/%Y").to_string(),
        other => value::cell_text(other, iso_date()).unwrap_or_default(),
    }
}

/// Opens the lookup file. With no `encoding` given, a CSV whose first bytes
/// are not UTF-8 is read as Windows-1252: the export of a Windows program,
/// as with the input (where `inspect` and `mapping init` detect it).
fn open(spec: &LookupSpec) -> Result<Source, String> {
    match Source::open(&spec.path, &spec.source) {
        Ok(s) => Ok(s),
        Err(e) if spec.source.encoding.is_none() && e.is_not_utf8() => {
            let opts = SourceOptions {
                encoding: Some(encoding_rs::WINDOWS_1252),
                ..spec.source.clone()
            };
            Source::open(&spec.path, &opts).map_err(|e| e.to_string())
        }
        // The messages name the lookup's own section (its options say which).
        Err(e) => Err(e.to_string()),
    }
}

/// The lookup tables a mapping uses, read before any row of the input.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    tables: Vec<Arc<LookupTable>>,
}

impl Lookups {
    /// No tables: for a mapping without lookups.
    pub fn none() -> Lookups {
        Lookups::default()
    }

    /// Reads every lookup a field or form entry of `mapping` uses. One that
    /// none uses is not read.
    pub fn load(mapping: &Mapping) -> Result<Lookups, MappingError> {
        let mut tables = Vec::new();
        for spec in &mapping.lookups {
            if !mapping.uses_lookup(&spec.name) {
                continue;
            }
            let started = Instant::now();
            let table = LookupTable::load(spec).map_err(|e| match &mapping.origin {
                Some(p) => MappingError::one(e).in_file(p),
                None => MappingError::one(e),
            })?;
            tracing::info!(
                lookup = %spec.name,
                file = %spec.path.display(),
                keys = table.len(),
                mib = format_args!("{:.1}", table.heap_bytes() as f64 / (1024.0 * 1024.0)),
                seconds = format_args!("{:.2}", started.elapsed().as_secs_f64()),
                "{}",
                tr!("lookup-table-read")
            );
            tables.push(Arc::new(table));
        }
        Ok(Lookups { tables })
    }

    /// Tables built elsewhere (tests, tools).
    pub fn from_tables(tables: impl IntoIterator<Item = LookupTable>) -> Lookups {
        Lookups {
            tables: tables.into_iter().map(Arc::new).collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<LookupTable>> {
        self.tables.iter().find(|t| t.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(normalize: Normalize, duplicates: Duplicates) -> LookupSpec {
        LookupSpec {
            name: "expedientes".into(),
            file: "expedientes.csv".into(),
            path: "expedientes.csv".into(),
            source: SourceOptions::default(),
            key: "Identificación".into(),
            value: "wolkvox_id".into(),
            normalize,
            duplicates,
            decimal: DecimalSeparator::Dot,
            date_formats: vec![DateFormat::new("%d/%m/%Y").unwrap()],
        }
    }

    fn table(
        normalize: Normalize,
        duplicates: Duplicates,
        rows: &[(&str, &str)],
    ) -> Result<LookupTable, String> {
        LookupTable::from_cells(
            &spec(normalize, duplicates),
            rows.iter()
                .enumerate()
                .map(|(i, (k, v))| (i as u64 + 2, CellRef::Text(k), CellRef::Text(v))),
        )
    }

    fn value<'a>(t: &'a LookupTable, key: &str) -> Option<&'a str> {
        match t.get(key) {
            Lookup::Found(f) => Some(f.text()),
            _ => None,
        }
    }

    #[test]
    fn digits_keep_only_digits_and_drop_leading_zeros() {
        let d = Normalize::Digits;
        assert_eq!(d.apply("1.020.345.678"), "1020345678");
        assert_eq!(d.apply("0098765432"), "98765432");
        assert_eq!(d.apply(" 840171132-2 "), "8401711322");
        assert_eq!(d.apply("000"), "0");
        assert_eq!(d.apply("N/A"), "");
        assert!(matches!(d.apply("1020345678"), Cow::Borrowed(_)));
        assert_eq!(Normalize::Casefold.apply(" ABC-12 "), "abc-12");
        assert_eq!(Normalize::Exact.apply(" ABC-12 "), "ABC-12");
    }

    #[test]
    fn digits_join_differently_written_documents() {
        let t = table(
            Normalize::Digits,
            Duplicates::Error,
            &[("1020345678", "61fa3"), ("98765432", "7b2c1")],
        )
        .unwrap();
        assert_eq!(value(&t, "1.020.345.678"), Some("61fa3"));
        assert_eq!(value(&t, "0098765432"), Some("7b2c1"));
        assert_eq!(t.get("55"), Lookup::Missing);
        assert_eq!(t.get("sin documento"), Lookup::NoKey);
        // Without normalisation the same spellings do not meet.
        let exact = table(
            Normalize::Exact,
            Duplicates::Error,
            &[("1020345678", "61fa3")],
        )
        .unwrap();
        assert_eq!(exact.get("1.020.345.678"), Lookup::Missing);
        assert_eq!(value(&exact, " 1020345678 "), Some("61fa3"));
    }

    #[test]
    fn casefold_ignores_case() {
        let t = table(Normalize::Casefold, Duplicates::Error, &[("ABC-12", "x1")]).unwrap();
        assert_eq!(value(&t, "abc-12"), Some("x1"));
        assert_eq!(value(&t, "Abc-12"), Some("x1"));
    }

    #[test]
    fn a_key_with_two_values_is_refused_naming_both_rows() {
        let e = table(
            Normalize::Digits,
            Duplicates::Error,
            &[
                ("1.020.345.678", "61fa3"),
                ("5", "x"),
                ("1020345678", "7b2c1"),
            ],
        )
        .unwrap_err();
        assert!(e.contains("rows 2 and 4"), "{e}");
        assert!(e.contains("\"1020345678\""), "{e}");
        assert!(e.contains("\"61fa3\" and \"7b2c1\""), "{e}");
        assert!(e.contains("column \"Identificación\""), "{e}");
        assert!(e.contains("duplicates = \"first\""), "{e}");
    }

    #[test]
    fn first_keeps_the_first_value_and_equal_repeats_are_harmless() {
        let rows = [("1020345678", "61fa3"), ("1.020.345.678", "7b2c1")];
        let t = table(Normalize::Digits, Duplicates::First, &rows).unwrap();
        assert_eq!(value(&t, "1020345678"), Some("61fa3"));
        assert_eq!(t.len(), 1);
        let same = [("1020345678", "61fa3"), ("1020345678", "61fa3")];
        let t = table(Normalize::Digits, Duplicates::Error, &same).unwrap();
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn rows_without_a_key_are_skipped() {
        let t = table(
            Normalize::Digits,
            Duplicates::Error,
            &[("", "a"), ("--", "b")],
        )
        .unwrap();
        assert!(t.is_empty());
    }

    #[test]
    fn values_keep_the_kind_of_cell_they_came_from() {
        let s = spec(Normalize::Exact, Duplicates::Error);
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        let t = LookupTable::from_cells(
            &s,
            [
                (2, CellRef::Text("n"), CellRef::Number(1234.5)),
                (3, CellRef::Text("i"), CellRef::Int(-7)),
                (4, CellRef::Text("d"), CellRef::Date(d)),
                (5, CellRef::Number(1020345678.0), CellRef::Text(" 61fa3 ")),
            ],
        )
        .unwrap();
        let cell = |k: &str| match t.get(k) {
            Lookup::Found(f) => f.cell(),
            other => panic!("{k}: {other:?}"),
        };
        assert_eq!(cell("n"), CellRef::Number(1234.5));
        assert_eq!(cell("i"), CellRef::Int(-7));
        assert_eq!(cell("d"), CellRef::Date(d));
        // A number key cell is compared as Excel shows it; text is trimmed.
        assert_eq!(cell("1020345678"), CellRef::Text("61fa3"));
    }

    #[test]
    fn an_error_cell_is_refused_with_its_row_and_column() {
        let s = spec(Normalize::Exact, Duplicates::Error);
        let e = LookupTable::from_cells(&s, [(7, CellRef::Text("k"), CellRef::Error("#N/A"))])
            .unwrap_err();
        assert!(e.contains("row 7, column \"wolkvox_id\""), "{e}");
        assert!(e.contains("#N/A"), "{e}");
    }

    #[test]
    fn an_error_value_written_as_text_is_refused_as_an_error_cell_is() {
        let s = spec(Normalize::Exact, Duplicates::Error);
        for error in [
            "#N/A", " #REF! ", "#VALUE!", "#NAME?", "#DIV/0!", "#NUM!", "#NULL!", "#N/D",
        ] {
            let e = LookupTable::from_cells(&s, [(7, CellRef::Text("k"), CellRef::Text(error))])
                .unwrap_err();
            assert!(e.contains("row 7, column \"wolkvox_id\""), "{e}");
            assert!(e.contains(&format!("error value {}", error.trim())), "{e}");
            let e = LookupTable::from_cells(&s, [(8, CellRef::Text(error), CellRef::Text("r1"))])
                .unwrap_err();
            assert!(e.contains("row 8"), "{e}");
        }
        // Text that only starts like one is a value.
        let t = LookupTable::from_cells(&s, [(2, CellRef::Text("k"), CellRef::Text("#N/A-7"))])
            .unwrap();
        assert_eq!(value(&t, "k"), Some("#N/A-7"));
    }

    #[test]
    fn keys_the_spreadsheet_rounded_never_match_and_are_remembered() {
        let s = spec(Normalize::Digits, Duplicates::Error);
        let t = LookupTable::from_cells(
            &s,
            [
                (2, CellRef::Number(1020345678.0), CellRef::Text("61fa3")),
                // Typed as 4540410858241234, held as ...230.
                (
                    3,
                    CellRef::Number(4_540_410_858_241_234.0),
                    CellRef::Text("bigid"),
                ),
                (4, CellRef::Text("4,54041E+15"), CellRef::Text("sci")),
                // A second rounded key equal to the first is no conflict.
                (
                    5,
                    CellRef::Number(4_540_410_858_241_231.0),
                    CellRef::Text("other"),
                ),
            ],
        )
        .unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t.untrusted_keys(), Some((3, 3)));
        assert_eq!(t.get("4540410858241230"), Lookup::Rounded { row: 3 });
        assert_eq!(t.get("4.540.410.858.241.230"), Lookup::Rounded { row: 3 });
        // The real document is not in the table, and neither is what the
        // scientific notation's digits would normalise to.
        assert_eq!(t.get("4540410858241234"), Lookup::Missing);
        assert_eq!(t.get("45404115"), Lookup::Missing);
        assert_eq!(value(&t, "1020345678"), Some("61fa3"));

        let clean = table(Normalize::Digits, Duplicates::Error, &[("5", "x")]).unwrap();
        assert_eq!(clean.untrusted_keys(), None);
    }

    #[test]
    fn an_input_key_whose_digits_are_gone_is_refused() {
        let e = input_key_text(CellRef::Number(4_540_410_858_241_234.0)).unwrap_err();
        assert!(e.to_string().contains("more than 15 digits"), "{e}");
        let e = input_key_text(CellRef::Text("4,54041E+15")).unwrap_err();
        assert_eq!(e.kind(), crate::problem::Kind::Scientific);
        assert_eq!(
            input_key_text(CellRef::Number(1020345678.0)).unwrap(),
            "1020345678"
        );
        assert_eq!(input_key_text(CellRef::Text("OB-1")).unwrap(), "OB-1");
    }

    #[test]
    fn many_keys_stay_compact() {
        let mut keys = KeyIndex::with_capacity(0);
        for i in 0..100_000u64 {
            let k = (1_000_000_000 + i * 7).to_string();
            let v = format!("{i:024x}");
            keys.insert(&k, &v, Kind::Text, i + 2, false)
                .unwrap()
                .unwrap();
        }
        keys.shrink();
        assert_eq!(keys.len(), 100_000);
        assert_eq!(
            keys.get("1000000700").map(|f| f.text()),
            Some("000000000000000000000064")
        );
        // 34 bytes of text and 16 of entry a key, plus the index.
        let per_key = keys.heap_bytes() as f64 / 100_000.0;
        assert!(per_key < 34.0 + 16.0 + 12.0, "{per_key} bytes a key");
    }
}
