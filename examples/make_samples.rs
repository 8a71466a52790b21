//! Writes the sample portfolio files in `samples/`: the same Colombian bank
//! portfolio ("cartera") as a legacy CSV export and as an Excel workbook,
//! each with a handful of deliberately bad rows; and the CRM's export of its
//! collections records ("expedientes"), which gives each client's
//! `wolkvox_id` through a lookup.
//!
//! Run it with `cargo run --example make_samples`. The output is the same on
//! every run (a fixed seed, a fixed creation date in the workbook), so the
//! committed files change only when this program does. `docs/samples.md`
//! lists the bad rows and the error each one gets.

use chrono::{Duration, NaiveDate};
use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, Formula, Workbook, Worksheet, XlsxError,
};
use std::fs;
use std::path::Path;

/// The columns, in the order the bank exports them.
const HEADER: [&str; 23] = [
    "ID Registro",
    "Tipo Documento",
    "Nro Documento",
    "Nombre Cliente",
    "Nro Obligación",
    "Producto",
    "Tipo Cartera",
    "Saldo Capital",
    "Saldo Total",
    "Valor Último Pago",
    "Fecha Último Pago",
    "Fecha Vencimiento",
    "Días Mora",
    "Calificación",
    "Ciudad",
    "Departamento",
    "Dirección",
    "Tel Celular",
    "Tel Fijo",
    "Correo",
    "Sucursal",
    "Asesor",
    "Observaciones internas",
];

// Column indexes the flaws and formats refer to.
const ID_REGISTRO: usize = 0;
const TIPO_DOCUMENTO: usize = 1;
const NRO_DOCUMENTO: usize = 2;
const NOMBRE_CLIENTE: usize = 3;
const NRO_OBLIGACION: usize = 4;
const SALDO_TOTAL: usize = 8;
const VALOR_ULTIMO_PAGO: usize = 9;
const FECHA_ULTIMO_PAGO: usize = 10;
const FECHA_VENCIMIENTO: usize = 11;
const DIAS_MORA: usize = 12;
const CIUDAD: usize = 14;
const DIRECCION: usize = 16;
const TEL_FIJO: usize = 18;

/// Obligations generated; one more row (a duplicate) is added to them.
const OBLIGATIONS: usize = 45;
/// The portfolio's cut-off date: days of delay are counted up to it.
const CUT_OFF: (i32, u32, u32) = (2024, 6, 30);

/// One cell, as each file would hold it.
#[derive(Debug, Clone)]
enum Value {
    /// Text, the same in both files.
    Text(String),
    /// An identifier made of digits: text in the CSV (leading zeros kept);
    /// in the workbook a number, as Excel stores ids typed into it, unless
    /// `keep_text` (a cell formatted as text before typing).
    Code {
        digits: String,
        keep_text: bool,
    },
    /// An amount in cents: `1.234.567,89` in the CSV (with `$ ` when
    /// `dollar`), a number cell in the workbook.
    Money {
        cents: i64,
        dollar: bool,
    },
    /// `dd/mm/yyyy` in the CSV, a date cell in the workbook.
    Date(NaiveDate),
    /// A whole number in both.
    Whole(i64),
    /// A number with a fraction: decimal comma in the CSV, a number cell.
    Fraction(f64),
    Empty,
    /// A workbook formula with its cached result; the CSV shows `csv`.
    Formula {
        formula: String,
        cached: String,
        csv: String,
    },
    /// The two files differ in this cell (a flaw of one file only).
    Split {
        csv: Box<Value>,
        xlsx: Box<Value>,
    },
    /// No cell at all: the CSV line lacks the delimiter.
    Missing,
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// SplitMix64: a fixed seed makes every run write the same files.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64 - 1) as usize]
    }
}

const FIRST_NAMES: &[&str] = &[
    "María José",
    "Juan Sebastián",
    "Ángela Patricia",
    "Andrés Felipe",
    "Luz Marina",
    "José Nicolás",
    "Sofía",
    "Martín",
    "Lucía",
    "Iván Darío",
    "Mónica",
    "Héctor Fabio",
    "Ximena",
    "Óscar Iván",
    "Beatriz Elena",
    "Raúl",
    "Nohemí",
    "Efraín",
    "Verónica",
    "Jesús Antonio",
];

const SURNAMES: &[&str] = &[
    "Peña",
    "Muñoz",
    "Suárez",
    "Castaño",
    "Ibáñez",
    "Gómez",
    "Rodríguez",
    "Martínez",
    "Ordóñez",
    "Zuluaga",
    "Cárdenas",
    "Londoño",
    "Ríos",
    "Álvarez",
    "Núñez",
    "Henao",
    "Quiñones",
    "Valencia",
    "Bermúdez",
    "Patiño",
];

const COMPANIES: &[(&str, &str)] = &[
    (
        "Distribuciones Muñoz & Cía S.A.S.",
        "distribucionesmunoz.com.co",
    ),
    ("Panadería La Espiga S.A.S.", "laespiga.com.co"),
    ("Transportes Núñez Ltda.", "transnunez.co"),
    ("Ferretería El Cañón S.A.S.", "ferrecanon.com.co"),
    ("Confecciones Señorial S.A.S.", "senorial.com.co"),
];

/// City, department, landline prefix.
const CITIES: &[(&str, &str, &str)] = &[
    ("Bogotá D.C.", "Bogotá D.C.", "601"),
    ("Medellín", "Antioquia", "604"),
    ("Cali", "Valle del Cauca", "602"),
    ("Barranquilla", "Atlántico", "605"),
    ("Cartagena", "Bolívar", "605"),
    ("Bucaramanga", "Santander", "607"),
    ("Cúcuta", "Norte de Santander", "607"),
    ("Pereira", "Risaralda", "606"),
    ("Manizales", "Caldas", "606"),
    ("Ibagué", "Tolima", "608"),
    ("Santa Marta", "Magdalena", "605"),
    ("Villavicencio", "Meta", "608"),
    ("Pasto", "Nariño", "602"),
    ("Montería", "Córdoba", "604"),
    ("Popayán", "Cauca", "602"),
    ("Tunja", "Boyacá", "608"),
    ("Zipaquirá", "Cundinamarca", "601"),
    ("Envigado", "Antioquia", "604"),
];

/// Product, portfolio type (tipo de cartera).
const PRODUCTS: &[(&str, &str)] = &[
    ("Tarjeta de Crédito", "Consumo"),
    ("Crédito de Libre Inversión", "Consumo"),
    ("Libranza", "Consumo"),
    ("Crédito Vehicular", "Consumo"),
    ("Crédito Hipotecario", "Vivienda"),
    ("Leasing Habitacional", "Vivienda"),
    ("Microcrédito", "Microcrédito"),
];

const STREETS: &[&str] = &["Calle", "Carrera", "Avenida", "Diagonal", "Transversal"];

const ADVISERS: &[&str] = &[
    "Camila Ortiz",
    "Julián Peña",
    "Sofía Restrepo",
    "Óscar Muñoz",
    "Natalia Díaz",
];

const NOTES: &[&str] = &[
    "",
    "No contesta",
    "Acuerdo de pago en estudio",
    "Solicitó refinanciación, enviar propuesta",
    "Reportado en centrales de riesgo",
    "Número equivocado, actualizar datos",
    "",
    "Promesa de pago para el 15 del mes",
];

const MAIL_DOMAINS: &[&str] = &["gmail.com", "hotmail.com", "yahoo.es", "outlook.com"];

/// The client a group of obligations belongs to (one collections record).
struct Client {
    registro: String,
    tipo_doc: &'static str,
    nro_doc: Value,
    nombre: String,
    city: (&'static str, &'static str, &'static str),
    direccion: String,
    celular: String,
    fijo: String,
    correo: String,
    commercial: bool,
}

/// Lower case ASCII for e-mail addresses: accents and ñ dropped.
fn ascii(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let c = match c {
                'á' | 'Á' => 'a',
                'é' | 'É' => 'e',
                'í' | 'Í' => 'i',
                'ó' | 'Ó' => 'o',
                'ú' | 'Ú' | 'ü' => 'u',
                'ñ' | 'Ñ' => 'n',
                c => c,
            };
            c.is_ascii_alphanumeric().then(|| c.to_ascii_lowercase())
        })
        .collect()
}

fn client(rng: &mut Rng, n: usize) -> Client {
    let city = *rng.pick(CITIES);
    let commercial = n % 9 == 4;
    let (tipo_doc, nro_doc, nombre, correo) = if commercial {
        let (name, domain) = COMPANIES[(n / 9) % COMPANIES.len()];
        let nit = rng.range(800_000_000, 901_999_999);
        (
            "NIT",
            text(format!("{nit}-{}", nit % 10)),
            name.to_string(),
            format!("cartera@{domain}"),
        )
    } else {
        let first = *rng.pick(FIRST_NAMES);
        let (s1, s2) = (*rng.pick(SURNAMES), *rng.pick(SURNAMES));
        let (tipo, doc) = if n % 11 == 7 {
            ("CE", rng.range(100_000, 999_999))
        } else if n.is_multiple_of(2) {
            ("CC", rng.range(10_000_000, 99_999_999))
        } else {
            ("CC", rng.range(1_000_000_000, 1_100_000_000))
        };
        let given = first.split(' ').next().unwrap_or(first);
        let correo = if n % 7 == 3 {
            String::new()
        } else {
            format!(
                "{}.{}{}@{}",
                ascii(given),
                ascii(s1),
                rng.range(1, 99),
                rng.pick(MAIL_DOMAINS)
            )
        };
        (
            tipo,
            Value::Code {
                digits: doc.to_string(),
                keep_text: false,
            },
            format!("{first} {s1} {s2}"),
            correo,
        )
    };
    let direccion = format!(
        "{} {} # {}-{}",
        rng.pick(STREETS),
        rng.range(1, 150),
        rng.range(1, 99),
        rng.range(1, 99)
    );
    let fijo = if n % 3 == 1 {
        String::new()
    } else {
        format!("{} {}", city.2, rng.range(2_000_000, 7_999_999))
    };
    Client {
        registro: format!("REG-{:04}", n + 1),
        tipo_doc,
        nro_doc,
        nombre,
        city,
        direccion,
        celular: format!(
            "3{}",
            rng.range(0, 2) * 100_000_000 + rng.range(0, 99_999_999) + 100_000_000
        ),
        fijo,
        correo,
        commercial,
    }
}

/// `1234567.89` (in cents) as a Colombian export writes it: `1.234.567,89`.
fn pesos(cents: i64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    format!("{grouped},{:02}", cents % 100)
}

fn rating(days: i64) -> &'static str {
    match days {
        0..=30 => "A",
        31..=60 => "B",
        61..=90 => "C",
        91..=180 => "D",
        _ => "E",
    }
}

/// One obligation row, in `HEADER` order.
fn obligation(rng: &mut Rng, c: &Client, n: usize, cut_off: NaiveDate) -> Vec<Value> {
    let (producto, cartera) = if c.commercial {
        ("Crédito Comercial", "Comercial")
    } else {
        *rng.pick(PRODUCTS)
    };
    // Cards carry a 13-digit account number; the other products a 9-digit
    // number that the bank's system pads with zeros.
    let nro = if producto == "Tarjeta de Crédito" {
        format!("45{}", rng.range(10_000_000_000, 99_999_999_999))
    } else {
        format!("{:09}", rng.range(10_000, 999_999))
    };
    let capital_pesos = match cartera {
        "Vivienda" => rng.range(40_000_000, 180_000_000),
        "Comercial" => rng.range(15_000_000, 90_000_000),
        "Microcrédito" => rng.range(800_000, 6_000_000),
        _ => rng.range(500_000, 25_000_000),
    } as i64;
    // Whole pesos mostly, as banks keep them; some with centavos.
    let capital = capital_pesos * 100
        + if n % 4 == 1 {
            rng.range(1, 99) as i64
        } else {
            0
        };
    let dias = *rng.pick(&[0i64, 5, 15, 31, 45, 62, 75, 90, 121, 150, 181, 240, 361]);
    let total = capital + capital * (dias + 30) / 1000;
    let vencimiento = cut_off - Duration::days(dias);
    let paid = n % 8 != 6;
    let (valor_pago, fecha_pago) = if paid {
        let amount = (rng.range(50, 2_500) * 1_000) as i64 * 100;
        let date = vencimiento - Duration::days(rng.range(1, 40) as i64);
        (
            Value::Money {
                cents: amount,
                dollar: false,
            },
            Value::Date(date),
        )
    } else {
        // Never paid: both cells empty.
        (Value::Empty, Value::Empty)
    };
    let (ciudad, depto, _) = c.city;
    vec![
        text(&c.registro),
        text(c.tipo_doc),
        c.nro_doc.clone(),
        text(&c.nombre),
        Value::Code {
            digits: nro,
            keep_text: false,
        },
        text(producto),
        text(cartera),
        Value::Money {
            cents: capital,
            dollar: false,
        },
        Value::Money {
            cents: total,
            dollar: n.is_multiple_of(3),
        },
        valor_pago,
        fecha_pago,
        Value::Date(vencimiento),
        Value::Whole(dias),
        text(rating(dias)),
        text(ciudad),
        text(depto),
        text(&c.direccion),
        Value::Code {
            digits: c.celular.clone(),
            keep_text: false,
        },
        text(&c.fijo),
        text(&c.correo),
        text(format!("{ciudad} Centro")),
        text(*rng.pick(ADVISERS)),
        text(*rng.pick(NOTES)),
    ]
}

/// The portfolio: good rows, the bad ones in place, and where the blank
/// line goes (it comes after data row `blank_after`, 0-based).
struct Portfolio {
    rows: Vec<Vec<Value>>,
    blank_after: usize,
}

fn portfolio() -> Portfolio {
    let mut rng = Rng(20_240_630);
    let cut_off = NaiveDate::from_ymd_opt(CUT_OFF.0, CUT_OFF.1, CUT_OFF.2).expect("a real date");
    let mut rows = Vec::new();
    let mut client_no = 0;
    let mut current = client(&mut rng, client_no);
    for n in 0..OBLIGATIONS {
        // Every fifth obligation belongs to the same client as the one before:
        // one collections record, two obligations.
        if n > 0 && n % 5 != 1 {
            client_no += 1;
            current = client(&mut rng, client_no);
        }
        rows.push(obligation(&mut rng, &current, n, cut_off));
    }

    // Texts that only read right when the CSV's quoting is honoured.
    rows[3][DIRECCION] = text("Calle 100 # 19-54; Torre 2 Apto 803");
    rows[12][DIRECCION] = text("Vereda El Salitre, Finca La Ñapa\nKm 3 vía Chía");
    // Ids typed into cells formatted as text keep their leading zeros in the
    // workbook; the other ids lose them there, as Excel does.
    for r in [5, 18] {
        if let Value::Code { digits, .. } = &rows[r][NRO_OBLIGACION] {
            let digits = format!("{:0>9}", digits.trim_start_matches('0'));
            rows[r][NRO_OBLIGACION] = Value::Code {
                digits,
                keep_text: true,
            };
        }
    }
    // A payment typed as text in the workbook, in the bank's notation, and a
    // payment date typed as text: both read with the mapping's settings.
    rows[9][VALOR_ULTIMO_PAGO] = text("$ 350.000");
    rows[9][FECHA_ULTIMO_PAGO] = text("15/03/2024");

    // The deliberately bad rows, each a different real-world mistake.
    // 1. A balance that is not a number: "N/A" typed in the export; in the
    //    workbook a lookup formula that found nothing (cached #N/A).
    rows[7][SALDO_TOTAL] = Value::Split {
        csv: Box::new(text("N/A")),
        xlsx: Box::new(Value::Formula {
            // E9: this row's Nro Obligación (data row 8 is sheet row 9).
            formula: "=VLOOKUP(E9,Saldos!A:B,2,FALSE)".into(),
            cached: "#N/A".into(),
            csv: "N/A".into(),
        }),
    };
    // 2. An impossible date (text in both files).
    rows[14][FECHA_VENCIMIENTO] = text("31/02/2024");
    // 3. Days of delay with a fraction.
    rows[21][DIAS_MORA] = Value::Fraction(12.5);
    // 4. No obligation number.
    rows[27][NRO_OBLIGACION] = Value::Empty;
    // 5. The CSV line lost a delimiter where the landline was empty; in the
    //    workbook (where a missing cell is just an empty one) the due date
    //    was never filled in.
    rows[33][TEL_FIJO] = Value::Split {
        csv: Box::new(Value::Missing),
        xlsx: Box::new(Value::Empty),
    };
    rows[33][FECHA_VENCIMIENTO] = Value::Split {
        csv: Box::new(rows[33][FECHA_VENCIMIENTO].clone()),
        xlsx: Box::new(Value::Empty),
    };
    // 6. The same obligation exported twice.
    let duplicate = rows[10].clone();
    rows.insert(40, duplicate);

    Portfolio {
        rows,
        blank_after: 19,
    }
}

fn csv_text(v: &Value) -> Option<String> {
    Some(match v {
        Value::Text(s) => s.clone(),
        Value::Code { digits, .. } => digits.clone(),
        Value::Money { cents, dollar } => {
            format!("{}{}", if *dollar { "$ " } else { "" }, pesos(*cents))
        }
        Value::Date(d) => d.format("%d/%m/%Y").to_string(),
        Value::Whole(n) => n.to_string(),
        Value::Fraction(f) => f.to_string().replace('.', ","),
        Value::Empty => String::new(),
        Value::Formula { csv, .. } => csv.clone(),
        Value::Split { csv, .. } => return csv_text(csv),
        Value::Missing => return None,
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_line(cells: impl Iterator<Item = String>) -> String {
    let fields: Vec<String> = cells.map(|c| csv_field(&c)).collect();
    format!("{}\r\n", fields.join(";"))
}

/// `;`-delimited, Windows-1252, CRLF: what a legacy core-banking export
/// looks like. A line break inside a quoted field stays a bare LF, as Excel
/// writes the Alt+Enter of a cell.
fn write_csv(p: &Portfolio, path: &Path) -> std::io::Result<()> {
    let mut out = csv_line(HEADER.iter().map(|h| h.to_string()));
    for (i, row) in p.rows.iter().enumerate() {
        out.push_str(&csv_line(row.iter().filter_map(csv_text)));
        if i == p.blank_after {
            out.push_str("\r\n");
        }
    }
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&out);
    assert!(!unmappable, "every character must exist in Windows-1252");
    fs::write(path, bytes)
}

struct Formats {
    header: Format,
    money: Format,
    date: Format,
    text: Format,
    wrap: Format,
}

fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    v: &Value,
    f: &Formats,
) -> Result<(), XlsxError> {
    match v {
        Value::Text(s) if s.is_empty() => {}
        Value::Text(s) if s.contains('\n') => {
            ws.write_string_with_format(row, col, s, &f.wrap)?;
        }
        Value::Text(s) => {
            ws.write_string(row, col, s)?;
        }
        Value::Code {
            digits,
            keep_text: true,
        } => {
            ws.write_string_with_format(row, col, digits, &f.text)?;
        }
        Value::Code { digits, .. } => {
            let n: f64 = digits.parse().expect("digits");
            ws.write_number(row, col, n)?;
        }
        Value::Money { cents, .. } => {
            ws.write_number_with_format(row, col, *cents as f64 / 100.0, &f.money)?;
        }
        Value::Date(d) => {
            let date = ExcelDateTime::from_ymd(
                u16::try_from(chrono::Datelike::year(d)).expect("a 4-digit year"),
                chrono::Datelike::month(d) as u8,
                chrono::Datelike::day(d) as u8,
            )?;
            ws.write_date_with_format(row, col, &date, &f.date)?;
        }
        Value::Whole(n) => {
            ws.write_number(row, col, *n as f64)?;
        }
        Value::Fraction(x) => {
            ws.write_number(row, col, *x)?;
        }
        Value::Empty | Value::Missing => {}
        Value::Formula {
            formula, cached, ..
        } => {
            ws.write_formula_with_format(
                row,
                col,
                Formula::new(formula).set_result(cached),
                &f.money,
            )?;
        }
        Value::Split { xlsx, .. } => write_cell(ws, row, col, xlsx, f)?,
    }
    Ok(())
}

/// The same portfolio as a workbook: sheet `Cartera`, header on row 1, real
/// date and number cells, and a second sheet `Saldos` that the one lookup
/// formula refers to.
fn write_xlsx(p: &Portfolio, path: &Path) -> Result<(), XlsxError> {
    let mut wb = Workbook::new();
    // A fixed creation time keeps the file byte-for-byte the same on each run.
    let created = ExcelDateTime::from_ymd(CUT_OFF.0 as u16, CUT_OFF.1 as u8, CUT_OFF.2 as u8)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title("Cartera de ejemplo")
            .set_author("wolkvox-import samples")
            .set_creation_datetime(&created),
    );
    let f = Formats {
        header: Format::new()
            .set_bold()
            .set_background_color(0xDDEBF7)
            .set_align(FormatAlign::Center),
        money: Format::new().set_num_format("#,##0.00"),
        date: Format::new().set_num_format("dd/mm/yyyy"),
        text: Format::new().set_num_format("@"),
        wrap: Format::new().set_text_wrap(),
    };

    let ws = wb.add_worksheet();
    ws.set_name("Cartera")?;
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &f.header)?;
        let width = match c {
            3 | 5 | 16 | 19 | 22 => 30.0,
            _ => 16.0,
        };
        ws.set_column_width(c as u16, width)?;
    }
    ws.set_freeze_panes(1, 0)?;
    let mut sheet_row: u32 = 1;
    let mut lookup_keys = Vec::new();
    for (i, row) in p.rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            write_cell(ws, sheet_row, c as u16, v, &f)?;
        }
        if i < 6 {
            lookup_keys.push((row[NRO_OBLIGACION].clone(), row[SALDO_TOTAL].clone()));
        }
        sheet_row += 1;
        if i == p.blank_after {
            sheet_row += 1;
        }
    }

    // The lookup table the #N/A formula searched: the obligation is not in it.
    let saldos = wb.add_worksheet();
    saldos.set_name("Saldos")?;
    saldos.write_string_with_format(0, 0, "Nro Obligación", &f.header)?;
    saldos.write_string_with_format(0, 1, "Saldo Total", &f.header)?;
    saldos.set_column_width(0, 18)?;
    saldos.set_column_width(1, 18)?;
    for (r, (id, saldo)) in lookup_keys.iter().enumerate() {
        write_cell(saldos, r as u32 + 1, 0, id, &f)?;
        write_cell(saldos, r as u32 + 1, 1, saldo, &f)?;
    }
    wb.save(path)
}

/// The columns of the CRM's records export, in its order.
const EXPEDIENTES_HEADER: [&str; 6] = [
    "wolkvox_id",
    "Tipo Identificación",
    "Identificación",
    "Nombre",
    "Ciudad",
    "Fecha Creación",
];

/// Clients the CRM has records for that are not in this portfolio: a records
/// export holds every record, not only today's file's.
const OTHER_RECORDS: usize = 4;

/// A document number as the CRM writes it, unlike the bank: a CC with
/// thousands dots (`61.249.230`), a CE padded with zeros to ten digits
/// (`0000580342`), a NIT with dots before its check digit
/// (`840.171.132-2`). Only `normalize = "digits"` makes them meet.
fn crm_document(tipo: &str, digits: &str) -> String {
    let dotted = |d: &str| {
        let mut out = String::new();
        for (i, ch) in d.chars().enumerate() {
            if i > 0 && (d.len() - i).is_multiple_of(3) {
                out.push('.');
            }
            out.push(ch);
        }
        out
    };
    match tipo {
        "CE" => format!("{digits:0>10}"),
        "NIT" => match digits.split_once('-') {
            Some((nit, check)) => format!("{}-{check}", dotted(nit)),
            None => dotted(digits),
        },
        _ => dotted(digits),
    }
}

/// The CRM's export of its collections records: one per client of the
/// portfolio (the `ID Registro` rows of one client share it), and a few
/// records of other clients, in the order the CRM created them.
fn expedientes(p: &Portfolio) -> Vec<[String; 6]> {
    // Its own seed, so the portfolio's files do not change with this list.
    let mut rng = Rng(20_240_701);
    let mut clients: Vec<[String; 4]> = Vec::new();
    for row in &p.rows {
        let cell = |c: usize| match &row[c] {
            Value::Text(s) => s.clone(),
            Value::Code { digits, .. } => digits.clone(),
            other => panic!("column {c} holds {other:?}"),
        };
        if !clients.iter().any(|c| c[0] == cell(ID_REGISTRO)) {
            clients.push([
                cell(ID_REGISTRO),
                cell(TIPO_DOCUMENTO),
                cell(NRO_DOCUMENTO),
                format!("{}|{}", cell(NOMBRE_CLIENTE), cell(CIUDAD)),
            ]);
        }
    }
    for n in 0..OTHER_RECORDS {
        let first = *rng.pick(FIRST_NAMES);
        let (s1, s2) = (*rng.pick(SURNAMES), *rng.pick(SURNAMES));
        let city = rng.pick(CITIES).0;
        clients.insert(
            7 + n * 9,
            [
                String::new(),
                "CC".into(),
                rng.range(1_000_000_000, 1_100_000_000).to_string(),
                format!("{first} {s1} {s2}|{city}"),
            ],
        );
    }
    let mut created = NaiveDate::from_ymd_opt(2021, 3, 1).expect("a real date");
    clients
        .iter()
        .enumerate()
        .map(|(i, [_, tipo, digits, name_city])| {
            created += Duration::days(rng.range(5, 40) as i64);
            let (name, city) = name_city.split_once('|').expect("name|city");
            // 24 hex digits, like the CRM's record ids: a time part that
            // grows with the creation date, then random ones.
            let id = format!(
                "{:08x}{:016x}",
                0x6040_0000u64 + i as u64 * 0x0001_3f2b,
                rng.next()
            );
            [
                id,
                tipo.clone(),
                crm_document(tipo, digits),
                name.to_string(),
                city.to_string(),
                created.format("%Y-%m-%d").to_string(),
            ]
        })
        .collect()
}

/// UTF-8 with a byte-order mark, `,`-delimited, CRLF: how a web
/// application's "export to CSV" for Excel usually writes, and not how the
/// bank writes; the reader detects both.
fn write_expedientes(records: &[[String; 6]], path: &Path) -> std::io::Result<()> {
    let line = |cells: &[&str]| {
        let fields: Vec<String> = cells
            .iter()
            .map(|s| {
                if s.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s.to_string()
                }
            })
            .collect();
        format!("{}\r\n", fields.join(","))
    };
    let mut out = String::from("\u{feff}");
    out.push_str(&line(&EXPEDIENTES_HEADER));
    for r in records {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        out.push_str(&line(&cells));
    }
    fs::write(path, out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    fs::create_dir_all(&dir)?;
    let p = portfolio();
    write_csv(&p, &dir.join("cartera.csv"))?;
    write_xlsx(&p, &dir.join("cartera.xlsx"))?;
    let records = expedientes(&p);
    write_expedientes(&records, &dir.join("expedientes.csv"))?;
    println!(
        "wrote {} and {} ({} data rows, a blank row after data row {}) and {} ({} records)",
        dir.join("cartera.csv").display(),
        dir.join("cartera.xlsx").display(),
        p.rows.len(),
        p.blank_after + 1,
        dir.join("expedientes.csv").display(),
        records.len()
    );
    Ok(())
}
