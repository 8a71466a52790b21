//! Writes a synthetic but realistic bank portfolio ("cartera") for the
//! benchmarks in `bench/run.sh`.
//!
//! ```text
//! cargo run --release --example gen_portfolio -- csv  OUT.csv  ROWS
//! cargo run --release --example gen_portfolio -- xlsx OUT.xlsx ROWS
//! cargo run --release --example gen_portfolio -- records-csv  OUT.csv  KEYS
//! cargo run --release --example gen_portfolio -- records-xlsx OUT.xlsx KEYS
//! ```
//!
//! `records-*` writes the CRM's export of collections records for the same
//! portfolio, to benchmark a lookup (`bench/portfolio-lookup.toml`): KEYS
//! records, one per distinct `Documento` of the portfolio's rows in order
//! (so a portfolio of up to about KEYS rows finds every row's record),
//! with the document written with thousands dots as CRMs do
//! (`1.020.345.678`), joined with `normalize = "digits"`. Six columns, as
//! `samples/expedientes.csv`.
//!
//! Both files hold the same 15 columns with Spanish headers, as banks export
//! them. The CSV is UTF-8, `;`-delimited, with decimal commas (and dots for
//! thousands), `dd/mm/yyyy` dates and a few quoted fields holding the
//! delimiter. The workbook has numbers as number cells and dates as date
//! cells, written row by row in rust_xlsxwriter's low-memory mode (strings go
//! to the shared-string table, as Excel writes them). `bench/portfolio.toml`
//! maps either file.
//!
//! The output is deterministic: the same ROWS always gives the same bytes of
//! data (a fixed seed and a self-contained generator, not `rand`, whose
//! streams may change between versions). Every row is valid and every
//! (`ID Registro`, `Nro Obligación`) pair is unique, so a dry run reports
//! every row `valid` and an import creates every row.
//!
//! `tests/outputs.rs` includes this file to write the same portfolio.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

const HEADERS: [&str; 15] = [
    "ID Registro",
    "Nro Obligación",
    "Producto",
    "Saldo Total",
    "Valor Último Pago",
    "Fecha Último Pago",
    "Fecha Vencimiento",
    "Días Mora",
    "Tipo Cartera",
    "Nombre Cliente",
    "Documento",
    "Ciudad",
    "Teléfono",
    "Correo",
    "Observaciones",
];

const PRODUCTS: [&str; 6] = [
    "Tarjeta de Crédito",
    "Crédito de Consumo",
    "Libranza",
    "Crédito Vehículo",
    "Microcrédito",
    "Crédito Hipotecario",
];
const PORTFOLIOS: [&str; 3] = ["Consumo", "Comercial", "Microcrédito"];
const FIRST_NAMES: [&str; 12] = [
    "María",
    "José",
    "Luis",
    "Ana",
    "Carlos",
    "Lucía",
    "Andrés",
    "Sofía",
    "Jesús",
    "Ángela",
    "Camilo",
    "Valentina",
];
const LAST_NAMES: [&str; 12] = [
    "Gómez",
    "Rodríguez",
    "Martínez",
    "Pérez",
    "García",
    "López",
    "Hernández",
    "Muñoz",
    "Díaz",
    "Castaño",
    "Peña",
    "Ibáñez",
];
const CITIES: [&str; 10] = [
    "Bogotá",
    "Medellín",
    "Cali",
    "Barranquilla",
    "Cartagena",
    "Bucaramanga",
    "Cúcuta",
    "Pereira",
    "Santa Marta",
    "Ibagué",
];
const NOTES: [&str; 8] = [
    "",
    "",
    "",
    "Cliente solicita llamada en la tarde",
    "Acuerdo de pago; revisar el 15",
    "Número equivocado",
    "Promesa de pago incumplida",
    "Enviar extracto por correo",
];

/// splitmix64: tiny, fast, and its sequence is fixed forever.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A calendar date, kept simple: days 1..=28 are valid in every month.
#[derive(Clone, Copy)]
struct Date {
    y: u16,
    m: u8,
    d: u8,
}

impl Date {
    fn random(rng: &mut Rng, first_year: u16, years: u64) -> Date {
        Date {
            y: first_year + rng.below(years) as u16,
            m: 1 + rng.below(12) as u8,
            d: 1 + rng.below(28) as u8,
        }
    }
}

/// One row's values, typed, shared by both writers.
struct Record {
    record_id: String,
    obligation: String,
    product: &'static str,
    /// In cents, so the CSV spelling is exact.
    balance_cents: u64,
    last_pay_cents: u64,
    last_pay_date: Date,
    expiring_date: Date,
    days_delay: u32,
    portfolio: &'static str,
    client: String,
    document: u64,
    city: &'static str,
    phone: String,
    email: String,
    notes: &'static str,
}

fn record(rng: &mut Rng, i: u64) -> Record {
    // 24 hex digits, like the CRM's record ids; unique per row because the
    // row index is part of it.
    let record_id = format!("{:08x}{:016x}", 0x64f0_0000u64 + (i >> 20), rng.next());
    // Leading zeros on purpose: they must survive the trip.
    let obligation = format!("{:012}", 4_000_000_000 + i * 7);
    let first = rng.pick(&FIRST_NAMES);
    let last1 = rng.pick(&LAST_NAMES);
    let last2 = rng.pick(&LAST_NAMES);
    let balance_cents = 5_000_000 + rng.below(9_000_000_000);
    let last_pay_cents = if rng.below(5) == 0 {
        0
    } else {
        10_000 + rng.below(balance_cents / 10)
    };
    Record {
        record_id,
        obligation,
        product: rng.pick(&PRODUCTS),
        balance_cents,
        last_pay_cents,
        last_pay_date: Date::random(rng, 2023, 2),
        expiring_date: Date::random(rng, 2022, 4),
        days_delay: rng.below(720) as u32,
        portfolio: rng.pick(&PORTFOLIOS),
        client: format!("{first} {last1} {last2}"),
        document: 10_000_000 + rng.below(1_190_000_000),
        city: rng.pick(&CITIES),
        phone: format!("3{:09}", rng.below(1_000_000_000)),
        email: format!(
            "{}.{}{}@correo.com.co",
            ascii_lower(first),
            ascii_lower(last1),
            i % 1000
        ),
        notes: rng.pick(&NOTES),
    }
}

fn ascii_lower(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'Á' => 'a',
            'é' | 'É' => 'e',
            'í' | 'Í' => 'i',
            'ó' | 'Ó' => 'o',
            'ú' | 'Ú' => 'u',
            'ñ' | 'Ñ' => 'n',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// `1234567,89` → `1.234.567,89`: how Colombian exports spell money.
fn money_es(cents: u64) -> String {
    let units = (cents / 100).to_string();
    let mut grouped = String::with_capacity(units.len() + units.len() / 3 + 3);
    for (k, ch) in units.chars().enumerate() {
        if k > 0 && (units.len() - k).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    format!("{grouped},{:02}", cents % 100)
}

fn date_dmy(d: Date) -> String {
    format!("{:02}/{:02}/{:04}", d.d, d.m, d.y)
}

pub fn write_csv(path: &Path, rows: u64) -> Result<(), String> {
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(BufWriter::with_capacity(256 * 1024, file));
    w.write_record(HEADERS).map_err(|e| e.to_string())?;
    let mut rng = Rng(0x00C0_FFEE);
    for i in 0..rows {
        let r = record(&mut rng, i);
        w.write_record([
            r.record_id.as_str(),
            &r.obligation,
            r.product,
            &money_es(r.balance_cents),
            &money_es(r.last_pay_cents),
            &date_dmy(r.last_pay_date),
            &date_dmy(r.expiring_date),
            &r.days_delay.to_string(),
            r.portfolio,
            &r.client,
            &r.document.to_string(),
            r.city,
            &r.phone,
            &r.email,
            r.notes,
        ])
        .map_err(|e| e.to_string())?;
    }
    let mut inner = w.into_inner().map_err(|e| e.to_string())?;
    inner.flush().map_err(|e| e.to_string())
}

pub fn write_xlsx(path: &Path, rows: u64) -> Result<(), XlsxError> {
    if rows + 1 > 1_048_576 {
        return Err(XlsxError::RowColumnLimitError);
    }
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let mut sheet = workbook.new_worksheet_with_low_memory();
    sheet.set_name("Cartera")?;
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    let mut rng = Rng(0x00C0_FFEE);
    for i in 0..rows {
        let r = record(&mut rng, i);
        let row = (i + 1) as u32;
        let to_date = |d: Date| ExcelDateTime::from_ymd(d.y, d.m, d.d);
        sheet.write_string(row, 0, &r.record_id)?;
        sheet.write_string(row, 1, &r.obligation)?;
        sheet.write_string(row, 2, r.product)?;
        sheet.write_number_with_format(row, 3, r.balance_cents as f64 / 100.0, &money)?;
        sheet.write_number_with_format(row, 4, r.last_pay_cents as f64 / 100.0, &money)?;
        sheet.write_datetime_with_format(row, 5, to_date(r.last_pay_date)?, &date)?;
        sheet.write_datetime_with_format(row, 6, to_date(r.expiring_date)?, &date)?;
        sheet.write_number(row, 7, f64::from(r.days_delay))?;
        sheet.write_string(row, 8, r.portfolio)?;
        sheet.write_string(row, 9, &r.client)?;
        // Banks' workbooks store document numbers as numbers.
        sheet.write_number(row, 10, r.document as f64)?;
        sheet.write_string(row, 11, r.city)?;
        sheet.write_string(row, 12, &r.phone)?;
        sheet.write_string(row, 13, &r.email)?;
        if !r.notes.is_empty() {
            sheet.write_string(row, 14, r.notes)?;
        }
    }
    workbook.push_worksheet(sheet);
    workbook.save(path)
}

const RECORD_HEADERS: [&str; 6] = [
    "wolkvox_id",
    "Tipo Identificación",
    "Identificación",
    "Nombre",
    "Ciudad",
    "Fecha Creación",
];

/// `1020345678` → `1.020.345.678`.
fn dotted(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (k, ch) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

/// The records behind the portfolio: for each row in order, its client's
/// record the first time its document appears, until `keys` records.
fn records(
    keys: u64,
    mut each: impl FnMut(u64, &Record) -> Result<(), String>,
) -> Result<(), String> {
    let mut rng = Rng(0x00C0_FFEE);
    let mut seen = std::collections::HashSet::with_capacity(keys as usize);
    let mut written = 0;
    let mut i = 0;
    while written < keys {
        let r = record(&mut rng, i);
        i += 1;
        if seen.insert(r.document) {
            each(written, &r)?;
            written += 1;
        }
    }
    Ok(())
}

fn write_records_csv(path: &Path, keys: u64) -> Result<(), String> {
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(BufWriter::with_capacity(256 * 1024, file));
    w.write_record(RECORD_HEADERS).map_err(|e| e.to_string())?;
    records(keys, |_, r| {
        w.write_record([
            r.record_id.as_str(),
            "CC",
            &dotted(r.document),
            &r.client,
            r.city,
            &date_dmy(r.last_pay_date),
        ])
        .map_err(|e| e.to_string())
    })?;
    let mut inner = w.into_inner().map_err(|e| e.to_string())?;
    inner.flush().map_err(|e| e.to_string())
}

fn write_records_xlsx(path: &Path, keys: u64) -> Result<(), String> {
    if keys + 1 > 1_048_576 {
        return Err(XlsxError::RowColumnLimitError.to_string());
    }
    let x = |e: XlsxError| e.to_string();
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let mut sheet = workbook.new_worksheet_with_low_memory();
    sheet.set_name("Registros").map_err(x)?;
    for (c, h) in RECORD_HEADERS.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *h, &bold)
            .map_err(x)?;
    }
    records(keys, |i, r| {
        let row = (i + 1) as u32;
        sheet.write_string(row, 0, &r.record_id).map_err(x)?;
        sheet.write_string(row, 1, "CC").map_err(x)?;
        // A workbook export keeps the document as a number cell.
        sheet.write_number(row, 2, r.document as f64).map_err(x)?;
        sheet.write_string(row, 3, &r.client).map_err(x)?;
        sheet.write_string(row, 4, r.city).map_err(x)?;
        sheet
            .write_string(row, 5, date_dmy(r.last_pay_date))
            .map_err(x)?;
        Ok(())
    })?;
    workbook.push_worksheet(sheet);
    workbook.save(path).map_err(x)
}

fn usage() -> ExitCode {
    eprintln!("usage: gen_portfolio csv|xlsx|records-csv|records-xlsx OUT ROWS");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, out, rows] = args.as_slice() else {
        return usage();
    };
    let Ok(rows) = rows.replace('_', "").parse::<u64>() else {
        return usage();
    };
    let path = Path::new(out);
    let result = match kind.as_str() {
        "csv" => write_csv(path, rows),
        "xlsx" => write_xlsx(path, rows).map_err(|e| e.to_string()),
        "records-csv" => write_records_csv(path, rows),
        "records-xlsx" => write_records_xlsx(path, rows),
        _ => return usage(),
    };
    match result {
        Ok(()) => {
            eprintln!("wrote {rows} rows to {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_portfolio: {e}");
            ExitCode::FAILURE
        }
    }
}
