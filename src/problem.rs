//! A row's problem as data: what kind of problem, which column, which
//! value, decided where the problem is found (the value's conversion, the
//! mapping, a lookup, the reader, the duplicate check, the workers).
//!
//! The results file's `error` is rendered from it, in the run's language;
//! the report groups rows by it. Nothing reads a message back to learn what
//! went wrong: messages change, and are translated.

use crate::tr;

/// What went wrong, in the terms the fix is given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A required cell is empty.
    Empty,
    /// Text that is not a number.
    NotANumber,
    /// A number written with the other decimal separator.
    DecimalSeparator,
    /// A number with a fraction where a whole number goes.
    NotWhole,
    /// A date that does not exist (31/02/2024).
    ImpossibleDate,
    /// Text that is not a date in the mapping's formats.
    NotADate,
    /// A spreadsheet error value (#N/A, #REF!).
    ErrorValue,
    /// A cell of another type (a date where a number goes, TRUE/FALSE).
    WrongType,
    /// The cell's key is not in the lookup file.
    NotInLookup,
    /// The cell has nothing to look up once normalised (`N/A` under
    /// `normalize = "digits"`).
    LookupNoKey,
    /// The cell's key is a number of the lookup file that its spreadsheet
    /// rounded: it cannot be trusted to name the right record.
    LookupKeyRounded,
    /// The lookup file has the key, but its value cannot become the field.
    LookupValue,
    /// The lookup file has the key, but its value is empty.
    LookupValueEmpty,
    /// An id written in scientific notation (`4,54041E+15`): the
    /// spreadsheet that wrote the file dropped its digits.
    Scientific,
    /// Another problem with a cell.
    Cell,
    /// The row has more or fewer cells than the header.
    RowWidth,
    /// Bytes that are not UTF-8: the mapping's encoding is wrong.
    Encoding,
    /// UTF-8 text read under the single-byte encoding the mapping forces:
    /// decoded, its accents would be garbled.
    ForcedEncoding,
    /// A quote opened and never closed.
    UnclosedQuote,
    /// The same wolkvox_id and id as an earlier row.
    Duplicate,
    /// Another problem with the row.
    Row,
    /// Insert mode met an obligation the CRM holds with other values.
    Exists,
    /// Transient failures until the retries ran out.
    GaveUp,
    /// Sent, outcome unknown.
    Uncertain,
    /// The API refused the row.
    Refused,
    /// Problems past the report's limit of groups, counted together.
    Other,
}

impl Kind {
    /// The name used in the report's `data-kind` and the catalogs' keys.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Empty => "empty",
            Kind::NotANumber => "not-number",
            Kind::DecimalSeparator => "decimal-separator",
            Kind::NotWhole => "not-whole",
            Kind::ImpossibleDate => "impossible-date",
            Kind::NotADate => "not-date",
            Kind::ErrorValue => "error-value",
            Kind::WrongType => "wrong-type",
            Kind::NotInLookup => "not-in-lookup",
            Kind::LookupNoKey => "lookup-no-key",
            Kind::LookupKeyRounded => "lookup-key-rounded",
            Kind::LookupValue => "lookup-value",
            Kind::LookupValueEmpty => "lookup-value-empty",
            Kind::Scientific => "scientific",
            Kind::Cell => "cell",
            Kind::RowWidth => "row-width",
            Kind::Encoding => "encoding",
            Kind::ForcedEncoding => "forced-encoding",
            Kind::UnclosedQuote => "unclosed-quote",
            Kind::Duplicate => "duplicate",
            Kind::Row => "row",
            Kind::Exists => "exists",
            Kind::GaveUp => "gave-up",
            Kind::Uncertain => "uncertain",
            Kind::Refused => "refused",
            Kind::Other => "other",
        }
    }

    /// The kinds whose example is a cell of the file (rather than the
    /// obligation the row names).
    pub fn shows_cell(self) -> bool {
        matches!(
            self,
            Kind::Empty
                | Kind::NotANumber
                | Kind::DecimalSeparator
                | Kind::NotWhole
                | Kind::ImpossibleDate
                | Kind::NotADate
                | Kind::ErrorValue
                | Kind::WrongType
                | Kind::NotInLookup
                | Kind::LookupNoKey
                | Kind::LookupKeyRounded
                | Kind::LookupValue
                | Kind::LookupValueEmpty
                | Kind::Scientific
                | Kind::Cell
        )
    }
}

/// One problem of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What kind of problem it is: what the report groups it under.
    pub kind: Kind,
    /// The column at fault, as the file's header spells it (trimmed);
    /// `None` for a problem of the whole row.
    pub column: Option<String>,
    /// The offending value as the row had it, where there is one to show.
    pub value: Option<String>,
    /// What is wrong, in the run's language: for a cell, worded to follow
    /// the column's name (`"abc" is not a number ...`); for a row, whole.
    pub detail: String,
    /// For a key not in a lookup file ([`Kind::NotInLookup`]), that file
    /// as the error names it: keys missing from two files are two
    /// problems to fix in two places.
    pub lookup: Option<String>,
}

impl Problem {
    /// A problem of the whole row.
    pub fn of_row(kind: Kind, detail: String) -> Problem {
        Problem {
            kind,
            column: None,
            value: None,
            detail,
            lookup: None,
        }
    }

    /// A problem of `column`'s cell.
    pub fn in_cell(kind: Kind, column: &str, value: Option<String>, detail: String) -> Problem {
        Problem {
            kind,
            column: Some(column.to_string()),
            value,
            detail,
            lookup: None,
        }
    }

    /// A cell of `column` that could not become its field's value.
    pub fn of_value(column: &str, e: crate::value::ValueError) -> Problem {
        let (kind, value, detail) = e.into_parts();
        Problem::in_cell(kind, column, value, detail)
    }

    /// A required cell of `column` left empty.
    pub fn empty(column: &str) -> Problem {
        Problem::in_cell(Kind::Empty, column, Some(String::new()), String::new())
    }

    /// Appends the problem as the results file's `error` says it, in the
    /// run's language: `column "Saldo": "abc" is not a number ...`.
    pub fn write(&self, out: &mut String) {
        match (&self.column, self.kind) {
            (None, _) => out.push_str(&self.detail),
            (Some(c), Kind::Empty) => out.push_str(&tr!("row-cell-empty", column = c.as_str())),
            (Some(c), _) => out.push_str(&tr!(
                "row-cell",
                column = c.as_str(),
                problem = self.detail.as_str()
            )),
        }
    }

    /// The problem as the results file's `error` says it.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

/// A row's `error`: its problems, a row-level one first, joined by `; `.
pub fn error_text(problems: &[Problem]) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        p.write(&mut out);
    }
    out
}
