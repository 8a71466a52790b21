//! Cell values and their conversion to the strings the API expects.
//!
//! Every value the API receives is a JSON string. Banks hand us numbers as
//! Excel floats (`10000.0`), as text in local notation (`$ 1.234.567,89`),
//! and dates as Excel serials or as text in some `strftime` format. The
//! functions here turn each of those into the one canonical spelling the
//! API's own examples use, or into a [`ValueError`] that says, in words a
//! person can act on, what was wrong with the value.

use crate::problem::Kind;
use crate::tr;
use chrono::format::{Fixed, Item, Numeric, ParseErrorKind, Parsed, StrftimeItems};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use std::borrow::Cow;
use std::fmt::Write as _;

/// One cell as read from a spreadsheet, borrowed from the reader's buffers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CellRef<'a> {
    /// No value.
    Empty,
    /// Text as written in the file (CSV cells are always text).
    Text(&'a str),
    /// An Excel numeric cell (Excel stores every number as a float).
    Number(f64),
    /// A whole number (ods, some xls cells).
    Int(i64),
    /// TRUE or FALSE.
    Bool(bool),
    /// An Excel cell formatted as a date, already converted from the
    /// workbook's date system (1900, or 1904 for old Mac workbooks).
    Date(NaiveDate),
    /// An error value such as `#DIV/0!` or `#N/A`.
    Error(&'a str),
}

/// An owned cell, for rows that come from a workbook.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// See [`CellRef::Empty`].
    Empty,
    /// See [`CellRef::Text`].
    Text(String),
    /// See [`CellRef::Number`].
    Number(f64),
    /// See [`CellRef::Int`].
    Int(i64),
    /// See [`CellRef::Bool`].
    Bool(bool),
    /// See [`CellRef::Date`].
    Date(NaiveDate),
    /// See [`CellRef::Error`].
    Error(String),
}

impl Cell {
    /// The cell, borrowed.
    pub fn as_ref(&self) -> CellRef<'_> {
        match self {
            Cell::Empty => CellRef::Empty,
            Cell::Text(s) => CellRef::Text(s),
            Cell::Number(n) => CellRef::Number(*n),
            Cell::Int(i) => CellRef::Int(*i),
            Cell::Bool(b) => CellRef::Bool(*b),
            Cell::Date(d) => CellRef::Date(*d),
            Cell::Error(e) => CellRef::Error(e),
        }
    }
}

impl CellRef<'_> {
    /// True when the cell holds nothing a person would see.
    #[inline]
    pub fn is_blank(&self) -> bool {
        match self {
            CellRef::Empty => true,
            CellRef::Text(s) => trim(s).is_empty(),
            _ => false,
        }
    }
}

/// `s.trim()`, answered at once for text that starts and ends with a
/// printable ASCII character, as nearly every cell does.
#[inline]
pub fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        [only] if only.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Why a cell could not become the value its field needs. The message is
/// phrased to follow `column "X": ` in a row's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.message)]
pub struct ValueError(Box<ValueErrorParts>);

/// Boxed: a conversion's result is returned on every cell, and only the
/// rare error needs these.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ValueErrorParts {
    kind: Kind,
    value: Option<String>,
    message: String,
}

impl ValueError {
    /// A `kind` of problem with `value` (the cell as the file has it, when
    /// there is one to show), said by `message` in the run's language.
    pub fn new(kind: Kind, value: Option<String>, message: String) -> ValueError {
        ValueError(Box::new(ValueErrorParts {
            kind,
            value,
            message,
        }))
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> Kind {
        self.0.kind
    }

    /// The value at fault, as the cell had it.
    pub fn value(&self) -> Option<&str> {
        self.0.value.as_deref()
    }

    /// The message, phrased to follow `column "X": `.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The kind, the value and the message.
    pub fn into_parts(self) -> (Kind, Option<String>, String) {
        let p = *self.0;
        (p.kind, p.value, p.message)
    }
}

fn err<T>(kind: Kind, value: Option<String>, message: String) -> Result<T, ValueError> {
    Err(ValueError::new(kind, value, message))
}

/// An error value of the spreadsheet (`#N/A`) where a value goes.
fn error_value<T>(e: &str) -> Result<T, ValueError> {
    err(
        Kind::ErrorValue,
        Some(e.to_string()),
        tr!("value-error-value", value = e),
    )
}

/// The two notations for numbers written as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecimalSeparator {
    /// `1,234,567.89`
    #[default]
    Dot,
    /// `1.234.567,89`
    Comma,
}

impl DecimalSeparator {
    /// The character between whole and fraction.
    pub fn decimal(self) -> char {
        match self {
            DecimalSeparator::Dot => '.',
            DecimalSeparator::Comma => ',',
        }
    }
    /// The character that groups thousands.
    pub fn thousands(self) -> char {
        match self {
            DecimalSeparator::Dot => ',',
            DecimalSeparator::Comma => '.',
        }
    }
}

/// Largest serial Excel accepts: 9999-12-31.
const MAX_EXCEL_SERIAL: f64 = 2_958_465.0;

/// Spells an Excel float the way Excel shows it: whole numbers without a
/// fraction (`10000`, `1234567890123`), never scientific notation, and at
/// most 15 significant digits so float noise (`0.30000000000000004`) is gone.
pub fn format_float(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    // Round to 15 significant digits as Excel does, then let Rust's shortest
    // round-trip formatting (which never uses an exponent) spell it.
    let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
    let mut s = format!("{rounded}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// A number a spreadsheet has rounded (see [`is_rounded_number`]), spelled
/// as a spreadsheet shows it in a narrow column: 15 significant digits in
/// scientific notation (`4.54041085824123E+15`). Spelled out in full, its
/// rounded digits would read back as a sound id; this way it reads back as
/// what it is, a number whose last digits are gone ([`is_scientific`]).
pub fn spell_rounded(value: f64) -> String {
    let s = format!("{value:.14E}");
    let (mantissa, exponent) = s.split_once('E').unwrap_or((&s, "0"));
    let mut mantissa = mantissa.trim_end_matches('0').to_string();
    if mantissa.ends_with('.') {
        mantissa.pop();
    }
    match exponent.strip_prefix('-') {
        Some(e) => format!("{mantissa}E-{e:0>2}"),
        None => format!("{mantissa}E+{exponent:0>2}"),
    }
}

/// The text a person sees in a cell, for `text` fields and `form` values.
/// Dates are written with `date_format`.
pub fn cell_text(cell: CellRef<'_>, date_format: &DateFormat) -> Result<String, ValueError> {
    cell_text_ref(cell, date_format).map(Cow::into_owned)
}

/// [`cell_text`] borrowing text cells instead of copying them: most cells
/// of a row are text sent as they are.
pub fn cell_text_ref<'a>(
    cell: CellRef<'a>,
    date_format: &DateFormat,
) -> Result<Cow<'a, str>, ValueError> {
    match cell {
        CellRef::Empty => Ok(Cow::Borrowed("")),
        CellRef::Text(s) => Ok(Cow::Borrowed(trim(s))),
        CellRef::Number(n) => Ok(Cow::Owned(format_float(n))),
        CellRef::Int(i) => Ok(Cow::Owned(i.to_string())),
        CellRef::Bool(b) => Ok(Cow::Borrowed(if b { "TRUE" } else { "FALSE" })),
        CellRef::Date(d) => Ok(Cow::Owned(date_format.format(d))),
        CellRef::Error(e) => error_value(e),
    }
}

/// The smallest number with 16 digits. Excel and LibreOffice keep 15
/// significant digits, so a number cell at or above this (an id typed or
/// pasted as a number) has already lost its last digits in the spreadsheet.
const FIRST_16_DIGIT_NUMBER: f64 = 1e15;

/// [`cell_text_ref`] for values whose every digit matters: ids and text
/// fields. A number cell of 16 digits or more is refused, because what the
/// file holds is the spreadsheet's rounding, not the real value.
pub fn exact_text_ref<'a>(
    cell: CellRef<'a>,
    date_format: &DateFormat,
) -> Result<Cow<'a, str>, ValueError> {
    if let CellRef::Number(n) = cell {
        if is_rounded_number(n) {
            return rounded_number(n);
        }
    }
    cell_text_ref(cell, date_format)
}

/// True for a number cell whose value has more digits than a spreadsheet
/// keeps: what it holds is the spreadsheet's rounding of the real value.
#[inline]
pub fn is_rounded_number(n: f64) -> bool {
    n.is_finite() && n.abs() >= FIRST_16_DIGIT_NUMBER
}

#[cold]
fn rounded_number<T>(n: f64) -> Result<T, ValueError> {
    let shown = format_float(n);
    err(
        Kind::Cell,
        Some(shown.clone()),
        tr!("value-rounded", value = shown),
    )
}

/// True for text that is a number in the scientific notation a spreadsheet
/// shows a long number in (`4,54041E+15`, `4.54041E+15`, `1E+10`, `-2E-05`):
/// written to a CSV that way, its digits past the sixth are gone. The
/// exponent's sign is required, as spreadsheets always write it, so that
/// codes such as `12E5` are not taken for numbers.
pub fn is_scientific(text: &str) -> bool {
    let b = trim(text).as_bytes();
    let b = b.strip_prefix(b"-").unwrap_or(b);
    let digits = |b: &[u8]| b.iter().take_while(|c| c.is_ascii_digit()).count();
    let whole = digits(b);
    if whole == 0 {
        return false;
    }
    let mut rest = &b[whole..];
    if let [b'.' | b',', tail @ ..] = rest {
        let fraction = digits(tail);
        if fraction == 0 {
            return false;
        }
        rest = &tail[fraction..];
    }
    match rest {
        [b'E' | b'e', b'+' | b'-', exponent @ ..] => {
            !exponent.is_empty() && exponent.len() <= 3 && digits(exponent) == exponent.len()
        }
        _ => false,
    }
}

/// Refuses text in scientific notation where every digit matters (ids,
/// lookup keys): see [`is_scientific`].
pub fn check_not_scientific(cell: CellRef<'_>) -> Result<(), ValueError> {
    match cell {
        CellRef::Text(t) if is_scientific(t) => scientific_text(t),
        _ => Ok(()),
    }
}

#[cold]
fn scientific_text(text: &str) -> Result<(), ValueError> {
    let shown = trim(text);
    err(
        Kind::Scientific,
        Some(shown.to_string()),
        tr!("value-scientific", value = shown),
    )
}

/// Characters that may surround a number written as text and mean nothing
/// to its value: currency signs and codes, spaces of every kind.
fn is_number_decoration(c: char) -> bool {
    c.is_whitespace() || matches!(c, '$' | '€' | '£' | '\u{a0}' | '\u{202f}' | '\'')
}

/// Parses a number cell into the API's spelling: digits, an optional `-`,
/// and `.` as decimal point, with no thousands separators, no leading zeros
/// and no trailing fractional zeros (`"10000,00"` → `"10000"`).
pub fn parse_number(cell: CellRef<'_>, sep: DecimalSeparator) -> Result<String, ValueError> {
    match cell {
        CellRef::Number(n) => {
            if n.is_finite() {
                Ok(format_float(n))
            } else {
                not_a_number_cell(n.to_string())
            }
        }
        CellRef::Int(i) => Ok(i.to_string()),
        CellRef::Text(s) => parse_number_text(s, sep),
        CellRef::Bool(b) => not_a_number_cell(if b { "TRUE" } else { "FALSE" }.to_string()),
        CellRef::Date(_) => err(Kind::WrongType, None, tr!("value-date-not-number")),
        CellRef::Error(e) => error_value(e),
        CellRef::Empty => Ok(String::new()),
    }
}

/// A number cell of another kind than a number (`TRUE`, an infinite float).
fn not_a_number_cell<T>(shown: String) -> Result<T, ValueError> {
    let message = tr!("value-not-number-cell", value = shown.as_str());
    err(Kind::WrongType, Some(shown), message)
}

/// Why text is not a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberFault {
    NotANumber,
    /// Grouped as the other decimal separator groups thousands (`1.5`
    /// under a decimal comma): almost always a wrong `decimal_separator`.
    OtherSeparator,
}

fn parse_number_text(raw: &str, sep: DecimalSeparator) -> Result<String, ValueError> {
    number_text(raw, sep).map_err(|fault| {
        let separator = sep.decimal().to_string();
        let (kind, message) = match fault {
            NumberFault::NotANumber => (
                Kind::NotANumber,
                tr!("value-not-number", value = raw, separator = separator),
            ),
            NumberFault::OtherSeparator => (
                Kind::DecimalSeparator,
                tr!("value-other-separator", value = raw, separator = separator),
            ),
        };
        ValueError::new(kind, Some(raw.to_string()), message)
    })
}

fn number_text(raw: &str, sep: DecimalSeparator) -> Result<String, NumberFault> {
    let (negative, s) = unsigned_number(raw).ok_or(NumberFault::NotANumber)?;
    // Scientific notation (`1.5E+3`), as some exports write large amounts.
    if let Some(epos) = s.find(['e', 'E']) {
        let digits = scientific(&s[..epos], &s[epos + 1..], sep).ok_or(NumberFault::NotANumber)?;
        return Ok(if negative && digits != "0" {
            format!("-{digits}")
        } else {
            digits
        });
    }
    let (int_part, frac_part) = match s.find(sep.decimal()) {
        Some(pos) => (&s[..pos], Some(&s[pos + sep.decimal().len_utf8()..])),
        None => (s, None),
    };
    let frac = match frac_part {
        Some(f) if !f.bytes().all(|b| b.is_ascii_digit()) => return Err(NumberFault::NotANumber),
        Some(f) => f,
        None => "",
    };
    let digits = integer_digits(int_part, frac, sep)?;
    Ok(canonical_number(negative, &digits, frac))
}

/// The text of a number without its currency, decorations and sign, and
/// whether it was negative; `None` when nothing, or two signs, are left.
fn unsigned_number(raw: &str) -> Option<(bool, &str)> {
    let mut s = raw.trim();
    // Currency codes written as words, before or after the amount.
    for code in ["COP", "USD", "MXN", "PEN", "CLP", "ARS", "EUR"] {
        if let Some(rest) = s.strip_prefix(code) {
            s = rest;
        }
        if let Some(rest) = s.strip_suffix(code) {
            s = rest;
        }
    }
    let s = s.trim_matches(is_number_decoration);
    // Accounting notation for negatives: (1.234,00).
    let (mut negative, s) = match s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        Some(inner) => (true, inner.trim_matches(is_number_decoration)),
        None => (false, s),
    };
    let s = match s.strip_prefix('-') {
        Some(rest) if !negative => {
            negative = true;
            rest
        }
        Some(_) => return None,
        None => s.strip_prefix('+').unwrap_or(s),
    };
    let s = s.trim_start_matches(is_number_decoration);
    (!s.is_empty()).then_some((negative, s))
}

/// A number in scientific notation, without its sign, in the API's spelling.
fn scientific(mantissa: &str, exponent: &str, sep: DecimalSeparator) -> Option<String> {
    let mantissa = mantissa.replace(sep.decimal(), ".");
    if mantissa.is_empty()
        || !mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || exponent.is_empty()
    {
        return None;
    }
    let value: f64 = format!("{mantissa}e{exponent}").parse().ok()?;
    value.is_finite().then(|| format_float(value))
}

/// The digits of a number's integer part, its thousands separators checked
/// and dropped.
fn integer_digits(
    int_part: &str,
    frac: &str,
    sep: DecimalSeparator,
) -> Result<String, NumberFault> {
    let mut digits = String::with_capacity(int_part.len() + frac.len() + 2);
    // Thousands may also be grouped with spaces (`1 234 567,5`) or apostrophes.
    let groups: Vec<&str> = int_part
        .split(|c: char| c == sep.thousands() || matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    for (i, group) in groups.iter().enumerate() {
        let g = *group;
        if g.is_empty() || !g.bytes().all(|b| b.is_ascii_digit()) {
            if i == 0 && groups.len() == 1 && g.is_empty() && !frac.is_empty() {
                // ",5" or ".5": a fraction with no integer part.
                continue;
            }
            return Err(NumberFault::NotANumber);
        }
        // With thousands separators every group after the first has three digits;
        // "1.5" under decimal "," is almost always a wrong decimal_separator.
        if groups.len() > 1 && ((i > 0 && g.len() != 3) || (i == 0 && g.len() > 3)) {
            return Err(NumberFault::OtherSeparator);
        }
        digits.push_str(g);
    }
    Ok(digits)
}

/// `-`, the integer digits without leading zeros (or `0`), and the fraction
/// without trailing zeros after a `.`.
fn canonical_number(negative: bool, digits: &str, frac: &str) -> String {
    let int_digits = digits.trim_start_matches('0');
    let frac_digits = frac.trim_end_matches('0');
    let mut out = String::with_capacity(int_digits.len() + frac_digits.len() + 3);
    if negative && !(int_digits.is_empty() && frac_digits.is_empty()) {
        out.push('-');
    }
    if int_digits.is_empty() {
        out.push('0');
    } else {
        out.push_str(int_digits);
    }
    if !frac_digits.is_empty() {
        out.push('.');
        out.push_str(frac_digits);
    }
    out
}

/// Parses an integer cell (days of delay, counts): a number with no fraction.
pub fn parse_integer(cell: CellRef<'_>, sep: DecimalSeparator) -> Result<String, ValueError> {
    let n = parse_number(cell, sep)?;
    if n.contains('.') {
        let shown = match cell {
            CellRef::Text(t) => t.trim().to_string(),
            _ => n.clone(),
        };
        return err(
            Kind::NotWhole,
            Some(shown.clone()),
            tr!("value-not-whole", value = shown),
        );
    }
    Ok(n)
}

/// [`parse_number`] appending the value to `out` (which is left as it was on
/// an error). The common spelling, digits with well-placed thousands
/// separators and one decimal separator, is converted in place; any other is
/// left to [`parse_number`], so the answer is always the same.
pub fn push_number(
    cell: CellRef<'_>,
    sep: DecimalSeparator,
    out: &mut String,
) -> Result<(), ValueError> {
    match cell {
        CellRef::Text(s) if push_plain_number(s, sep, out) => Ok(()),
        CellRef::Number(n) if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 => {
            write!(out, "{}", n as i64).expect("a String takes any number");
            Ok(())
        }
        CellRef::Int(i) => {
            write!(out, "{i}").expect("a String takes any number");
            Ok(())
        }
        _ => {
            out.push_str(&parse_number(cell, sep)?);
            Ok(())
        }
    }
}

/// [`parse_integer`] appending the value to `out` (left as it was on an error).
pub fn push_integer(
    cell: CellRef<'_>,
    sep: DecimalSeparator,
    out: &mut String,
) -> Result<(), ValueError> {
    let start = out.len();
    push_number(cell, sep, out)?;
    if out.as_bytes()[start..].contains(&b'.') {
        out.truncate(start);
        // For its message.
        parse_integer(cell, sep)?;
        unreachable!("a number with a fraction is not an integer");
    }
    Ok(())
}

/// The fast path of [`push_number`] for text: true when `raw` was a plain
/// number and its value is appended; false (and `out` untouched) otherwise.
fn push_plain_number(raw: &str, sep: DecimalSeparator, out: &mut String) -> bool {
    let (decimal, thousands) = match sep {
        DecimalSeparator::Dot => (b'.', b','),
        DecimalSeparator::Comma => (b',', b'.'),
    };
    let b = raw.as_bytes();
    // Short text: a plain loop beats memchr's setup.
    let (int, frac) = match b.iter().position(|&c| c == decimal) {
        Some(p) => (&b[..p], Some(&b[p + 1..])),
        None => (b, None),
    };
    if int.is_empty() {
        return false;
    }
    if let Some(f) = frac {
        if f.is_empty() || !f.iter().all(u8::is_ascii_digit) {
            return false;
        }
    }
    // Spelled into a buffer on the stack, appended at once: a longer
    // number goes the slow way.
    let mut buf = [0u8; 40];
    let mut n = 0;
    // With thousands separators, the first group has 1 to 3 digits and
    // every other exactly 3; leading zeros are dropped.
    let (mut groups, mut len, mut leading) = (0usize, 0usize, true);
    for &c in int {
        if c == thousands {
            if len == 0 || (groups == 0 && len > 3) || (groups > 0 && len != 3) {
                return false;
            }
            groups += 1;
            len = 0;
        } else if c.is_ascii_digit() {
            len += 1;
            if !(leading && c == b'0') {
                leading = false;
                if n == buf.len() {
                    return false;
                }
                buf[n] = c;
                n += 1;
            }
        } else {
            return false;
        }
    }
    if len == 0 || (groups > 0 && len != 3) {
        return false;
    }
    if leading {
        buf[0] = b'0';
        n = 1;
    }
    if let Some(f) = frac {
        let end = f.iter().rposition(|&c| c != b'0').map_or(0, |p| p + 1);
        if end > 0 {
            if n + 1 + end > buf.len() {
                return false;
            }
            buf[n] = b'.';
            buf[n + 1..n + 1 + end].copy_from_slice(&f[..end]);
            n += 1 + end;
        }
    }
    push_ascii(out, &buf[..n]);
    true
}

/// [`parse_date_in`] written in `out_format`, appended to `out`.
pub fn push_date(
    cell: CellRef<'_>,
    formats: &[DateFormat],
    date_1904: bool,
    out_format: &DateFormat,
    out: &mut String,
) -> Result<(), ValueError> {
    // Text in the first format, spelled exactly, to a simple format.
    if let (CellRef::Text(s), Some(first)) = (cell, formats.first()) {
        if first.respell(trim(s), out_format, out) {
            return Ok(());
        }
    }
    let d = parse_date_in(cell, formats, date_1904)?;
    out_format.push(d, out);
    Ok(())
}

/// A validated `strftime` format, kept with a human spelling for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    spec: String,
    /// The format parsed once: parsing it again for every cell was a tenth
    /// of a dry run's time.
    items: Vec<Item<'static>>,
    /// The same format when it is a zero-padded day, month and four-digit
    /// year, once each, with punctuation around (`%d/%m/%Y`, `%Y-%m-%d`,
    /// ...): dates in it are read and written as bytes at fixed places,
    /// without chrono's general machinery, which was a tenth of a dry run
    /// again.
    layout: Option<Layout>,
}

/// Where a simple [`DateFormat`] puts each part of a date.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Layout {
    /// The format's spelling of a date, punctuation in place and `0` for
    /// every digit: its length is the length of every date in it.
    template: Box<[u8]>,
    /// Byte offsets of the two-digit day, the two-digit month and the
    /// four-digit year.
    day: usize,
    month: usize,
    year: usize,
    /// The punctuation's offsets in the template.
    punctuation: Box<[usize]>,
}

impl Layout {
    /// The layout of `items`, when they are a simple format.
    fn of(items: &[Item<'_>]) -> Option<Layout> {
        use chrono::format::Pad;
        let mut template = Vec::new();
        let (mut day, mut month, mut year) = (None, None, None);
        for item in items {
            let (at, width) = match item {
                Item::Numeric(Numeric::Day, Pad::Zero) => (&mut day, 2),
                Item::Numeric(Numeric::Month, Pad::Zero) => (&mut month, 2),
                Item::Numeric(Numeric::Year, Pad::Zero) => (&mut year, 4),
                Item::Literal(s) if is_punctuation(s) => {
                    template.extend_from_slice(s.as_bytes());
                    continue;
                }
                Item::OwnedLiteral(s) if is_punctuation(s) => {
                    template.extend_from_slice(s.as_bytes());
                    continue;
                }
                _ => return None,
            };
            if at.replace(template.len()).is_some() {
                return None;
            }
            template.resize(template.len() + width, b'0');
        }
        let (day, month, year) = (day?, month?, year?);
        let digit = |i: usize| {
            (day..day + 2).contains(&i)
                || (month..month + 2).contains(&i)
                || (year..year + 4).contains(&i)
        };
        Some(Layout {
            punctuation: (0..template.len()).filter(|&i| !digit(i)).collect(),
            template: template.into(),
            day,
            month,
            year,
        })
    }

    /// Year, month and day of `text` when it is spelled exactly in this
    /// layout and is a real date with a four-digit year.
    fn read(&self, text: &[u8]) -> Option<(u32, u32, u32)> {
        if text.len() != self.template.len() {
            return None;
        }
        let digits = |at: usize, n: usize| {
            text[at..at + n].iter().try_fold(0u32, |v, &c| {
                c.is_ascii_digit().then(|| v * 10 + u32::from(c - b'0'))
            })
        };
        let (d, m, y) = (
            digits(self.day, 2)?,
            digits(self.month, 2)?,
            digits(self.year, 4)?,
        );
        let same = self
            .punctuation
            .iter()
            .all(|&i| text[i] == self.template[i]);
        // check_year's years, and the days of the proleptic Gregorian
        // calendar, as chrono counts them.
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        let days = match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (same && (1000..=9999).contains(&y) && (1..=days).contains(&d)).then_some((y, m, d))
    }

    /// Appends the date whose day, month and year digits are `d`, `m`, `y`.
    fn write(&self, d: [u8; 2], m: [u8; 2], y: [u8; 4], out: &mut String) {
        let mut buf = [0u8; 32];
        let n = self.template.len();
        if n > buf.len() {
            // Only a format with much punctuation.
            let mut b = self.template.to_vec();
            self.place(&mut b, d, m, y);
            push_ascii(out, &b);
            return;
        }
        buf[..n].copy_from_slice(&self.template);
        self.place(&mut buf[..n], d, m, y);
        push_ascii(out, &buf[..n]);
    }

    fn place(&self, b: &mut [u8], d: [u8; 2], m: [u8; 2], y: [u8; 4]) {
        b[self.day..self.day + 2].copy_from_slice(&d);
        b[self.month..self.month + 2].copy_from_slice(&m);
        b[self.year..self.year + 4].copy_from_slice(&y);
    }
}

/// Punctuation in a format stands for itself; whitespace matches any run of
/// it when parsing, so it is not simple.
fn is_punctuation(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_punctuation())
}

/// Appends ASCII bytes to `out`: checked, then copied without a second look.
fn push_ascii(out: &mut String, bytes: &[u8]) {
    assert!(bytes.is_ascii(), "only ASCII is appended here");
    // SAFETY: ASCII bytes are UTF-8, checked just above.
    out.push_str(unsafe { std::str::from_utf8_unchecked(bytes) });
}

/// The ASCII digits of `n`, `N` of them (leading zeros kept).
fn ascii_digits<const N: usize>(mut n: u32) -> [u8; N] {
    let mut out = [b'0'; N];
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out
}

impl DateFormat {
    /// Checks that `spec` is a format chrono understands and that it names a
    /// day, a month and a year, so a date can be read back from it.
    pub fn new(spec: &str) -> Result<DateFormat, String> {
        if spec.trim().is_empty() {
            return Err(tr!("value-format-empty"));
        }
        let items: Vec<Item<'_>> = StrftimeItems::new(spec).collect();
        if items.iter().any(|i| matches!(i, Item::Error)) {
            return Err(tr!("value-format-invalid-hint", spec = spec));
        }
        let has = |f: &dyn Fn(&Item<'_>) -> bool| items.iter().any(f);
        let day = has(&|i| matches!(i, Item::Numeric(Numeric::Day, _)));
        let month = has(&|i| {
            matches!(
                i,
                Item::Numeric(Numeric::Month, _)
                    | Item::Fixed(Fixed::ShortMonthName | Fixed::LongMonthName)
            )
        });
        let year = has(&|i| matches!(i, Item::Numeric(Numeric::Year | Numeric::YearMod100, _)));
        if !(day && month && year) {
            return Err(tr!("value-format-incomplete", spec = spec));
        }
        // Proves the format can at least print a date.
        let mut probe = String::new();
        if write!(
            probe,
            "{}",
            NaiveDate::from_ymd_opt(2024, 1, 31)
                .expect("a real date")
                .format(spec)
        )
        .is_err()
        {
            return Err(tr!("value-format-invalid", spec = spec));
        }
        let items = StrftimeItems::new(spec)
            .parse_to_owned()
            .map_err(|_| tr!("value-format-invalid", spec = spec))?;
        let layout = Layout::of(&items);
        Ok(DateFormat {
            spec: spec.to_string(),
            items,
            layout,
        })
    }

    /// The format as the mapping wrote it.
    pub fn spec(&self) -> &str {
        &self.spec
    }

    /// `date` spelled in this format.
    pub fn format(&self, date: NaiveDate) -> String {
        let mut out = String::new();
        self.push(date, &mut out);
        out
    }

    /// Appends `date` in this format to `out`.
    pub fn push(&self, date: NaiveDate, out: &mut String) {
        match &self.layout {
            // chrono writes other years with a sign or fewer digits.
            Some(l) if (1000..=9999).contains(&date.year()) => l.write(
                ascii_digits(date.day()),
                ascii_digits(date.month()),
                ascii_digits(date.year() as u32),
                out,
            ),
            _ => write!(out, "{}", date.format_with_items(self.items.iter()))
                .expect("a String takes any date"),
        }
    }

    /// `text` in this format when it is spelled exactly as the format
    /// writes (`05/06/2023` for `%d/%m/%Y`) and is a real date with a
    /// four-digit year; `None` when only chrono's general parser can tell.
    fn parse_simple(&self, text: &str) -> Option<NaiveDate> {
        let (y, m, d) = self.layout.as_ref()?.read(text.as_bytes())?;
        NaiveDate::from_ymd_opt(y as i32, m, d)
    }

    /// `text`, spelled exactly in this format, respelled in `to`, when both
    /// are simple: the digits move to their new places without a date
    /// being built. False, with nothing appended, when that cannot be done.
    fn respell(&self, text: &str, to: &DateFormat, out: &mut String) -> bool {
        let (Some(from), Some(to)) = (&self.layout, &to.layout) else {
            return false;
        };
        let b = text.as_bytes();
        if from.read(b).is_none() {
            return false;
        }
        match (
            b[from.day..].first_chunk::<2>(),
            b[from.month..].first_chunk::<2>(),
            b[from.year..].first_chunk::<4>(),
        ) {
            (Some(&d), Some(&m), Some(&y)) => {
                to.write(d, m, y, out);
                true
            }
            _ => false,
        }
    }

    /// The format as a person writes it: `dd/mm/yyyy`.
    pub fn human(&self) -> String {
        self.spec
            .replace("%d", "dd")
            .replace("%m", "mm")
            .replace("%Y", "yyyy")
            .replace("%y", "yy")
            .replace("%H", "HH")
            .replace("%M", "MM")
            .replace("%S", "SS")
            .replace("%b", "mon")
    }
}

/// The API's own example spells dates `06-06-2023`.
pub const DEFAULT_OUTPUT_DATE_FORMAT: &str = "%d-%m-%Y";
/// Tried in order for date text when the mapping names no format.
pub const DEFAULT_INPUT_DATE_FORMATS: &[&str] = &["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"];

/// Converts an Excel serial number to a date, in either date system.
/// The time of day, if any, is dropped.
pub fn excel_serial_to_date(serial: f64, is_1904: bool) -> Result<NaiveDate, ValueError> {
    if !(1.0..MAX_EXCEL_SERIAL + 1.0).contains(&serial) {
        let shown = format_float(serial);
        return err(
            Kind::NotADate,
            Some(shown.clone()),
            tr!("value-bad-serial", value = shown),
        );
    }
    let days = serial.floor() as i64;
    if is_1904 {
        let epoch = NaiveDate::from_ymd_opt(1904, 1, 1).expect("epoch");
        return Ok(epoch + Duration::days(days));
    }
    // Excel's 1900 system counts the non-existent 1900-02-29 as day 60.
    match days {
        60 => err(
            Kind::ImpossibleDate,
            Some("60".into()),
            tr!("value-serial-60"),
        ),
        d if d < 60 => {
            Ok(NaiveDate::from_ymd_opt(1899, 12, 31).expect("epoch") + Duration::days(d))
        }
        d => Ok(NaiveDate::from_ymd_opt(1899, 12, 30).expect("epoch") + Duration::days(d)),
    }
}

/// Parses a date cell: an Excel date cell, an Excel serial number (numeric
/// cell or five-digit text), or text in one of `formats`, tried in order.
/// Serials are read in the 1900 date system; see [`parse_date_in`].
pub fn parse_date(cell: CellRef<'_>, formats: &[DateFormat]) -> Result<NaiveDate, ValueError> {
    parse_date_in(cell, formats, false)
}

/// [`parse_date`] for a workbook in the given date system (`date_1904` for
/// workbooks made by old Mac versions of Excel).
pub fn parse_date_in(
    cell: CellRef<'_>,
    formats: &[DateFormat],
    date_1904: bool,
) -> Result<NaiveDate, ValueError> {
    match cell {
        CellRef::Date(d) => Ok(d),
        CellRef::Number(n) => excel_serial_to_date(n, date_1904),
        CellRef::Int(i) => excel_serial_to_date(i as f64, date_1904),
        CellRef::Text(s) => parse_date_text(trim(s), formats),
        CellRef::Bool(b) => err(
            Kind::WrongType,
            Some(if b { "TRUE" } else { "FALSE" }.into()),
            tr!("value-bool-not-date"),
        ),
        CellRef::Error(e) => error_value(e),
        CellRef::Empty => err(Kind::Empty, Some(String::new()), tr!("value-empty")),
    }
}

fn parse_date_text(s: &str, formats: &[DateFormat]) -> Result<NaiveDate, ValueError> {
    // The first format, spelled exactly: what chrono would find first.
    if let Some(d) = formats.first().and_then(|f| f.parse_simple(s)) {
        return Ok(d);
    }
    parse_date_text_by_chrono(s, formats)
}

fn parse_date_text_by_chrono(s: &str, formats: &[DateFormat]) -> Result<NaiveDate, ValueError> {
    let mut impossible = false;
    for f in formats {
        match parse_with(s, f) {
            Ok(d) => return Ok(d),
            Err(ParseErrorKind::OutOfRange | ParseErrorKind::Impossible) => {
                impossible |= plausible_parts(s, f.spec())
            }
            Err(_) => {}
        }
    }
    // An Excel serial that reached a CSV as plain digits: five digits are
    // the dates from 1927 to 2173; fewer are more likely a typing slip.
    if s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = s.parse::<u32>() {
            return excel_serial_to_date(f64::from(n), false);
        }
    }
    if impossible {
        return err(
            Kind::ImpossibleDate,
            Some(s.to_string()),
            tr!("value-not-real-date", value = s),
        );
    }
    let human = formats
        .iter()
        .map(DateFormat::human)
        .reduce(|a, b| tr!("value-formats-or", first = a, second = b))
        .unwrap_or_default();
    err(
        Kind::NotADate,
        Some(s.to_string()),
        tr!("value-not-date", value = s, formats = human),
    )
}

/// Parses `s` with `fmt`, also accepting a time of day after the date
/// (`31/01/2024 00:00:00`, as database exports write dates).
fn parse_with(s: &str, f: &DateFormat) -> Result<NaiveDate, ParseErrorKind> {
    let mut parsed = Parsed::new();
    let first = match chrono::format::parse(&mut parsed, s, f.items.iter())
        .and_then(|_| parsed.to_naive_date())
    {
        Ok(d) => return check_year(d),
        Err(e) => e.kind(),
    };
    let fmt = f.spec();
    if first == ParseErrorKind::TooLong {
        for time in [
            " %H:%M:%S",
            " %H:%M",
            "T%H:%M:%S",
            " %H:%M:%S%.f",
            " %I:%M:%S %p",
        ] {
            if let Ok(dt) = NaiveDateTime::parse_from_str(s, &format!("{fmt}{time}")) {
                return check_year(dt.date());
            }
        }
    }
    Err(first)
}

/// True when `s` reads in `fmt` as a day 1–31, a month 1–12 and a four-digit
/// year, so that a failure means the calendar has no such day (31/02), not
/// that the text is in another format.
fn plausible_parts(s: &str, fmt: &str) -> bool {
    let mut p = Parsed::new();
    let base = s.split([' ', 'T']).next().unwrap_or(s);
    if chrono::format::parse(&mut p, s, StrftimeItems::new(fmt)).is_err()
        && chrono::format::parse(&mut p, base, StrftimeItems::new(fmt)).is_err()
        && p.day().is_none()
    {
        return false;
    }
    let month_ok = p.month().is_some_and(|m| (1..=12).contains(&m));
    let day_ok = p.day().is_some_and(|d| (1..=31).contains(&d));
    let year_ok = p.year().is_some_and(|y| (1000..=9999).contains(&y));
    month_ok && day_ok && year_ok
}

/// Two-digit or five-digit years are typing slips, not dates to send.
fn check_year(d: NaiveDate) -> Result<NaiveDate, ParseErrorKind> {
    if (1000..=9999).contains(&d.year()) {
        Ok(d)
    } else {
        Err(ParseErrorKind::OutOfRange)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Result<String, ValueError> {
        parse_number(CellRef::Text(s), DecimalSeparator::Dot)
    }
    fn num_comma(s: &str) -> Result<String, ValueError> {
        parse_number(CellRef::Text(s), DecimalSeparator::Comma)
    }
    fn dmy() -> Vec<DateFormat> {
        vec![DateFormat::new("%d/%m/%Y").unwrap()]
    }
    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn excel_floats_are_spelled_as_excel_shows_them() {
        assert_eq!(format_float(10000.0), "10000");
        assert_eq!(format_float(1234567890123.0), "1234567890123");
        assert_eq!(format_float(0.1 + 0.2), "0.3");
        assert_eq!(format_float(1234.56), "1234.56");
        assert_eq!(format_float(-0.5), "-0.5");
        assert_eq!(format_float(1e20), "100000000000000000000");
        assert_eq!(format_float(0.000001), "0.000001");
        assert_eq!(format_float(-0.0), "0");
    }

    #[test]
    fn ids_from_floats_keep_every_digit() {
        let id = CellRef::Number(1_234_567_890_123.0);
        let f = DateFormat::new("%d-%m-%Y").unwrap();
        assert_eq!(cell_text(id, &f).unwrap(), "1234567890123");
        assert_eq!(cell_text(CellRef::Number(900123.0), &f).unwrap(), "900123");
        assert_eq!(cell_text(CellRef::Int(42), &f).unwrap(), "42");
    }

    #[test]
    fn a_rounded_number_is_spelled_as_a_spreadsheet_shows_it_and_reads_back_so() {
        for (n, spelled) in [
            (4_540_410_858_241_234.0, "4.54041085824123E+15"),
            (1e15, "1E+15"),
            (-12_345_678_901_234_567.0, "-1.23456789012346E+16"),
            (1e21, "1E+21"),
        ] {
            assert!(is_rounded_number(n), "{n}");
            assert_eq!(spell_rounded(n), spelled);
            assert!(is_scientific(spelled), "{spelled}");
        }
    }

    #[test]
    fn scientific_notation_as_spreadsheets_write_it_is_recognised() {
        for t in [
            "4,54041E+15",
            "4.54041E+15",
            "1E+10",
            " 1e+10 ",
            "-2E-05",
            "1,23457E+012",
        ] {
            assert!(is_scientific(t), "{t}");
        }
        // Codes, plain numbers and half-written exponents are not.
        for t in [
            "12E5",
            "4540410858241234",
            "OB-1E+5",
            "E+15",
            "4,E+15",
            "4,5E+",
            "4,5E+1234",
            "1E+1x",
            "",
        ] {
            assert!(!is_scientific(t), "{t}");
        }
        let e = check_not_scientific(CellRef::Text(" 4,54041E+15 ")).unwrap_err();
        assert_eq!(e.kind(), Kind::Scientific);
        assert_eq!(e.value(), Some("4,54041E+15"));
        assert!(e.to_string().contains("format the column as text"), "{e}");
        assert!(check_not_scientific(CellRef::Number(1e10)).is_ok());
    }

    #[test]
    fn numbers_of_16_digits_are_refused_where_every_digit_matters() {
        let f = DateFormat::new("%d-%m-%Y").unwrap();
        let e = exact_text_ref(CellRef::Number(4_540_410_858_241_234.0), &f).unwrap_err();
        assert!(e.to_string().contains("4540410858241230"), "{e}");
        assert!(e.to_string().contains("format the column as text"), "{e}");
        assert!(exact_text_ref(CellRef::Number(-1e15), &f).is_err());
        // 15 digits are kept exactly, and text is never judged.
        assert_eq!(
            exact_text_ref(CellRef::Number(999_999_999_999_999.0), &f).unwrap(),
            "999999999999999"
        );
        assert_eq!(
            exact_text_ref(CellRef::Text("4540410858241234"), &f).unwrap(),
            "4540410858241234"
        );
        // Amounts keep their behaviour.
        assert_eq!(
            parse_number(
                CellRef::Number(4_540_410_858_241_234.0),
                DecimalSeparator::Dot
            )
            .unwrap(),
            "4540410858241230"
        );
    }

    #[test]
    fn numbers_in_dot_notation() {
        assert_eq!(num("10000").unwrap(), "10000");
        assert_eq!(num("10000.00").unwrap(), "10000");
        assert_eq!(num("1,234,567.89").unwrap(), "1234567.89");
        assert_eq!(num("$ 1,234,567.89").unwrap(), "1234567.89");
        assert_eq!(num("-12.50").unwrap(), "-12.5");
        assert_eq!(num("(1,000.00)").unwrap(), "-1000");
        assert_eq!(num("007").unwrap(), "7");
        assert_eq!(num(".5").unwrap(), "0.5");
        assert_eq!(num("+3").unwrap(), "3");
        assert_eq!(num("1.5E+3").unwrap(), "1500");
        assert_eq!(num("1.23456789012E+12").unwrap(), "1234567890120");
        assert_eq!(num("COP 2500").unwrap(), "2500");
        assert_eq!(num("0.00").unwrap(), "0");
        assert_eq!(num("-0").unwrap(), "0");
    }

    #[test]
    fn numbers_in_comma_notation() {
        assert_eq!(num_comma("$ 1.234.567,89").unwrap(), "1234567.89");
        assert_eq!(num_comma("10000,00").unwrap(), "10000");
        assert_eq!(num_comma("1 234 567,5").unwrap(), "1234567.5");
        assert_eq!(num_comma("1\u{a0}234,5").unwrap(), "1234.5");
        assert_eq!(num_comma("-45,10").unwrap(), "-45.1");
        assert_eq!(num_comma("2.500").unwrap(), "2500");
        assert_eq!(num("1'234.5").unwrap(), "1234.5");
        assert!(num_comma("1 23,5").is_err());
    }

    #[test]
    fn bad_numbers_say_what_was_read() {
        assert_eq!(
            num("abc").unwrap_err().to_string(),
            "\"abc\" is not a number (decimal separator \".\")"
        );
        assert_eq!(
            num_comma("1.5").unwrap_err().to_string(),
            "\"1.5\" is not a number with decimal separator \",\" (is decimal_separator right?)"
        );
        assert!(num("1.2.3").is_err());
        assert!(num("12-3").is_err());
        assert!(num("--3").is_err());
        assert!(num("$").is_err());
        assert!(num("1,2").is_err());
        assert_eq!(
            parse_number(CellRef::Error("#DIV/0!"), DecimalSeparator::Dot)
                .unwrap_err()
                .to_string(),
            "holds the error value #DIV/0!"
        );
    }

    #[test]
    fn errors_say_their_kind_and_the_value_at_fault() {
        let kind_value = |r: Result<String, ValueError>| {
            let e = r.unwrap_err();
            (e.kind(), e.value().map(str::to_string))
        };
        let v = |s: &str| Some(s.to_string());
        let (dot, comma) = (DecimalSeparator::Dot, DecimalSeparator::Comma);
        assert_eq!(kind_value(num(" abc ")), (Kind::NotANumber, v(" abc ")));
        assert_eq!(kind_value(num("--3")), (Kind::NotANumber, v("--3")));
        assert_eq!(
            kind_value(num_comma("1.5")),
            (Kind::DecimalSeparator, v("1.5"))
        );
        let int = |c| parse_integer(c, comma);
        assert_eq!(
            kind_value(int(CellRef::Text(" 12,5"))),
            (Kind::NotWhole, v("12,5"))
        );
        assert_eq!(
            kind_value(parse_number(CellRef::Error("#N/A"), dot)),
            (Kind::ErrorValue, v("#N/A"))
        );
        assert_eq!(
            kind_value(parse_number(CellRef::Bool(true), dot)),
            (Kind::WrongType, v("TRUE"))
        );
        let d = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
        assert_eq!(
            kind_value(parse_number(CellRef::Date(d), dot)),
            (Kind::WrongType, None)
        );
        let f = DateFormat::new("%d-%m-%Y").unwrap();
        let rounded =
            exact_text_ref(CellRef::Number(4_540_410_858_241_234.0), &f).map(|c| c.into_owned());
        assert_eq!(kind_value(rounded), (Kind::Cell, v("4540410858241230")));

        let date = |c| parse_date(c, &dmy()).map(|d| d.to_string());
        assert_eq!(
            kind_value(date(CellRef::Text("31/02/2024"))),
            (Kind::ImpossibleDate, v("31/02/2024"))
        );
        assert_eq!(
            kind_value(date(CellRef::Text("2024-13-01"))),
            (Kind::NotADate, v("2024-13-01"))
        );
        assert_eq!(
            kind_value(date(CellRef::Number(60.0))),
            (Kind::ImpossibleDate, v("60"))
        );
        assert_eq!(
            kind_value(date(CellRef::Number(0.5))),
            (Kind::NotADate, v("0.5"))
        );
        assert_eq!(
            kind_value(date(CellRef::Bool(false))),
            (Kind::WrongType, v("FALSE"))
        );
        assert_eq!(
            kind_value(date(CellRef::Error("#REF!"))),
            (Kind::ErrorValue, v("#REF!"))
        );
        // The fast paths say the same as the slow ones.
        let mut out = String::new();
        let e = push_integer(CellRef::Text("3.25"), dot, &mut out).unwrap_err();
        assert_eq!((e.kind(), e.value()), (Kind::NotWhole, Some("3.25")));
        let e = push_date(CellRef::Text("30/02/2023"), &dmy(), false, &f, &mut out).unwrap_err();
        assert_eq!(e.kind(), Kind::ImpossibleDate);
        assert!(out.is_empty());
    }

    #[test]
    fn integers_refuse_fractions() {
        let sep = DecimalSeparator::Dot;
        assert_eq!(parse_integer(CellRef::Text("90"), sep).unwrap(), "90");
        assert_eq!(parse_integer(CellRef::Number(90.0), sep).unwrap(), "90");
        assert_eq!(parse_integer(CellRef::Text("90.00"), sep).unwrap(), "90");
        assert_eq!(
            parse_integer(CellRef::Text("12.5"), sep)
                .unwrap_err()
                .to_string(),
            "\"12.5\" is not a whole number"
        );
        assert_eq!(
            parse_integer(CellRef::Number(3.25), sep)
                .unwrap_err()
                .to_string(),
            "\"3.25\" is not a whole number"
        );
    }

    #[test]
    fn dates_in_each_format() {
        assert_eq!(
            parse_date(CellRef::Text("31/01/2024"), &dmy()).unwrap(),
            ymd(2024, 1, 31)
        );
        let iso = vec![DateFormat::new("%Y-%m-%d").unwrap()];
        assert_eq!(
            parse_date(CellRef::Text("2024-01-31"), &iso).unwrap(),
            ymd(2024, 1, 31)
        );
        assert_eq!(
            parse_date(CellRef::Text("2024-01-31 00:00:00"), &iso).unwrap(),
            ymd(2024, 1, 31)
        );
        let two = vec![
            DateFormat::new("%Y-%m-%d").unwrap(),
            DateFormat::new("%d/%m/%Y").unwrap(),
        ];
        assert_eq!(
            parse_date(CellRef::Text("05/06/2023"), &two).unwrap(),
            ymd(2023, 6, 5)
        );
        let month_names = vec![DateFormat::new("%d-%b-%Y").unwrap()];
        assert_eq!(
            parse_date(CellRef::Text("05-Jun-2023"), &month_names).unwrap(),
            ymd(2023, 6, 5)
        );
    }

    #[test]
    fn impossible_dates_are_errors_with_the_value() {
        assert_eq!(
            parse_date(CellRef::Text("31/02/2024"), &dmy())
                .unwrap_err()
                .to_string(),
            "\"31/02/2024\" is not a real date"
        );
        assert_eq!(
            parse_date(CellRef::Text("2024-13-01"), &dmy())
                .unwrap_err()
                .to_string(),
            "\"2024-13-01\" is not a date in the format dd/mm/yyyy"
        );
        assert_eq!(
            parse_date(CellRef::Text("29/02/2023"), &dmy())
                .unwrap_err()
                .to_string(),
            "\"29/02/2023\" is not a real date"
        );
        assert_eq!(
            parse_date(CellRef::Text("29/02/2024"), &dmy()).unwrap(),
            ymd(2024, 2, 29)
        );
        // Another format is not "not a real date".
        assert_eq!(
            parse_date(CellRef::Text("31/01/24"), &dmy())
                .unwrap_err()
                .to_string(),
            "\"31/01/24\" is not a date in the format dd/mm/yyyy"
        );
        let two = vec![
            DateFormat::new("%d/%m/%Y").unwrap(),
            DateFormat::new("%Y-%m-%d").unwrap(),
        ];
        assert_eq!(
            parse_date(CellRef::Text("03-15-2024"), &two)
                .unwrap_err()
                .to_string(),
            "\"03-15-2024\" is not a date in the format dd/mm/yyyy or yyyy-mm-dd"
        );
    }

    #[test]
    fn excel_serials_in_both_systems() {
        assert_eq!(
            excel_serial_to_date(45_123.0, false).unwrap(),
            ymd(2023, 7, 16)
        );
        assert_eq!(excel_serial_to_date(1.0, false).unwrap(), ymd(1900, 1, 1));
        assert_eq!(excel_serial_to_date(59.0, false).unwrap(), ymd(1900, 2, 28));
        assert_eq!(excel_serial_to_date(61.0, false).unwrap(), ymd(1900, 3, 1));
        assert!(excel_serial_to_date(60.0, false).is_err());
        assert_eq!(
            excel_serial_to_date(45_123.75, false).unwrap(),
            ymd(2023, 7, 16)
        );
        // The same day is 1462 lower in the 1904 system.
        assert_eq!(
            excel_serial_to_date(45_123.0 - 1462.0, true).unwrap(),
            ymd(2023, 7, 16)
        );
        assert_eq!(
            excel_serial_to_date(0.0, true).unwrap_err().to_string(),
            "0 is not a date serial number Excel knows"
        );
        assert!(excel_serial_to_date(3e6, false).is_err());
        assert_eq!(
            parse_date(CellRef::Number(45_123.0), &dmy()).unwrap(),
            ymd(2023, 7, 16)
        );
        assert_eq!(
            parse_date(CellRef::Text("45123"), &dmy()).unwrap(),
            ymd(2023, 7, 16)
        );
        assert_eq!(
            parse_date(CellRef::Date(ymd(2023, 7, 16)), &[]).unwrap(),
            ymd(2023, 7, 16)
        );
    }

    #[test]
    fn date_formats_are_validated() {
        assert!(DateFormat::new("%Q")
            .unwrap_err()
            .contains("\"%Q\" is not a valid date format"));
        assert!(DateFormat::new("").is_err());
        assert!(DateFormat::new("%m/%Y")
            .unwrap_err()
            .contains("does not name a day, a month and a year"));
        assert_eq!(
            DateFormat::new("%d-%b-%y").unwrap().format(ymd(2023, 6, 6)),
            "06-Jun-23"
        );
        let f = DateFormat::new(DEFAULT_OUTPUT_DATE_FORMAT).unwrap();
        assert_eq!(f.format(ymd(2023, 6, 6)), "06-06-2023");
        assert_eq!(f.human(), "dd-mm-yyyy");
    }

    proptest::proptest! {
        #[test]
        fn plain_numbers_read_as_parse_number_reads_them(
            s in "[0-9.,]{0,14}|[0-9 .,$'()+eE-]{0,10}|0{0,3}[1-9]{1,3}([.,][0-9]{3}){0,3}([.,][0-9]{0,3})?"
        ) {
            for sep in [DecimalSeparator::Dot, DecimalSeparator::Comma] {
                let mut out = String::from("x");
                let fast = push_number(CellRef::Text(&s), sep, &mut out).map(|()| out[1..].to_string());
                proptest::prop_assert_eq!(&fast, &parse_number(CellRef::Text(&s), sep), "{:?} {:?}", s, sep);
                let mut out = String::from("x");
                let fast = push_integer(CellRef::Text(&s), sep, &mut out).map(|()| out[1..].to_string());
                proptest::prop_assert_eq!(&fast, &parse_integer(CellRef::Text(&s), sep), "{:?} {:?}", s, sep);
                if fast.is_err() {
                    proptest::prop_assert_eq!(out, "x");
                }
            }
        }

        #[test]
        fn simple_dates_read_and_write_as_chrono_does(
            a in 0u32..100, b in 0u32..100, y in 0u32..10000, spec in 0usize..4
        ) {
            let specs = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%m/%d/%Y"];
            let f = DateFormat::new(specs[spec]).unwrap();
            let others = [f.clone(), DateFormat::new("%d-%b-%Y").unwrap()];
            for text in [
                NaiveDate::from_ymd_opt(y as i32, a.clamp(1, 12), b.clamp(1, 28)).map(|d| chrono_format(&f, d)),
                Some(format!("{a:02}/{b:02}/{y:04}")),
                Some(format!("{y:04}-{a:02}-{b:02}")),
                Some(format!("{a:02}-{b:02}-{y:04}")),
                Some(format!("{a}/{b}/{y}")),
            ].into_iter().flatten() {
                let fast = parse_date_text(&text, &others);
                let slow = parse_date_text_by_chrono(&text, &others);
                for out_spec in ["%d-%m-%Y", "%Y/%m/%d", "%d %b %Y"] {
                    let out_format = DateFormat::new(out_spec).unwrap();
                    let mut pushed = String::new();
                    let pushed = push_date(CellRef::Text(&text), &others, false, &out_format, &mut pushed)
                        .map(|()| pushed);
                    let by_chrono = slow.clone().map(|d| chrono_format(&out_format, d));
                    proptest::prop_assert_eq!(pushed, by_chrono, "{:?} to {}", text, out_spec);
                }
                proptest::prop_assert_eq!(&fast, &slow, "{:?} in {}", text, specs[spec]);
                if let Ok(d) = fast {
                    proptest::prop_assert_eq!(f.format(d), chrono_format(&f, d));
                }
            }
            if let Some(d) = NaiveDate::from_ymd_opt(y as i32, a.clamp(1, 12), b.clamp(1, 28)) {
                proptest::prop_assert_eq!(f.format(d), chrono_format(&f, d));
            }
        }
    }

    fn chrono_format(f: &DateFormat, d: NaiveDate) -> String {
        d.format_with_items(f.items.iter()).to_string()
    }

    #[test]
    fn only_plain_formats_take_the_short_way() {
        assert!(DateFormat::new("%d/%m/%Y").unwrap().layout.is_some());
        assert!(DateFormat::new("%Y%m%d").unwrap().layout.is_some());
        assert!(DateFormat::new("%d %m %Y").unwrap().layout.is_none());
        assert!(DateFormat::new("%d-%b-%Y").unwrap().layout.is_none());
        assert!(DateFormat::new("%e/%m/%Y").unwrap().layout.is_none());
        assert!(DateFormat::new("%d/%m/%Y (%d)").unwrap().layout.is_none());
        let f = DateFormat::new("%d/%m/%Y").unwrap();
        assert_eq!(f.parse_simple("05/06/2023"), Some(ymd(2023, 6, 5)));
        assert_eq!(f.parse_simple("5/06/2023"), None);
        assert_eq!(f.parse_simple("31/02/2024"), None);
        assert_eq!(f.parse_simple("05/06/0999"), None);
        assert_eq!(f.format(ymd(999, 1, 2)), chrono_format(&f, ymd(999, 1, 2)));
    }

    #[test]
    fn cell_text_of_dates_uses_the_output_format() {
        let f = DateFormat::new("%d-%m-%Y").unwrap();
        let cell = CellRef::Date(ymd(2023, 7, 16));
        assert_eq!(cell_text(cell, &f).unwrap(), "16-07-2023");
        assert_eq!(cell_text(CellRef::Text("  hola "), &f).unwrap(), "hola");
        assert_eq!(
            cell_text(CellRef::Error("#N/A"), &f)
                .unwrap_err()
                .to_string(),
            "holds the error value #N/A"
        );
    }
}
