//! Property tests: the parsers and the row mapping never panic on any
//! input, and what they accept round-trips.

use proptest::prelude::*;
use wolkvox_import::mapping::{Mapping, Plan};
use wolkvox_import::source::{Format, Header, Row, Source, SourceOptions};
use wolkvox_import::value::{
    excel_serial_to_date, format_float, parse_date, parse_integer, parse_number, Cell, CellRef,
    DateFormat, DecimalSeparator,
};

/// Groups digits in threes with `sep`: `1234567` → `1.234.567`.
fn group(digits: &str, sep: char) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// The canonical spelling of `int.frac` with trailing fractional zeros gone.
fn canonical(int: u64, frac: &str) -> String {
    let f = frac.trim_end_matches('0');
    if f.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{f}")
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn number_parsing_never_panics(s in ".{0,40}") {
        let _ = parse_number(CellRef::Text(&s), DecimalSeparator::Dot);
        let _ = parse_number(CellRef::Text(&s), DecimalSeparator::Comma);
        let _ = parse_integer(CellRef::Text(&s), DecimalSeparator::Comma);
    }

    #[test]
    fn a_number_in_any_notation_parses_to_the_same_value(
        int in 0u64..1_000_000_000_000,
        frac in "[0-9]{0,4}",
        currency in prop::bool::ANY,
        spaces in prop::bool::ANY,
    ) {
        let expected = canonical(int, &frac);
        let digits = int.to_string();
        let prefix = if currency { "$ " } else { "" };
        let pad = if spaces { "  " } else { "" };
        let with_frac = |s: String, dec: char| if frac.is_empty() { s } else { format!("{s}{dec}{frac}") };
        let dot_plain = format!("{pad}{prefix}{}{pad}", with_frac(digits.clone(), '.'));
        let dot_grouped = format!("{prefix}{}", with_frac(group(&digits, ','), '.'));
        let comma_plain = format!("{prefix}{}", with_frac(digits.clone(), ','));
        let comma_grouped = format!("{prefix}{}", with_frac(group(&digits, '.'), ','));
        let comma_spaced = with_frac(group(&digits, ' '), ',');
        prop_assert_eq!(parse_number(CellRef::Text(&dot_plain), DecimalSeparator::Dot).unwrap(), expected.clone());
        prop_assert_eq!(parse_number(CellRef::Text(&dot_grouped), DecimalSeparator::Dot).unwrap(), expected.clone());
        prop_assert_eq!(parse_number(CellRef::Text(&comma_plain), DecimalSeparator::Comma).unwrap(), expected.clone());
        prop_assert_eq!(parse_number(CellRef::Text(&comma_grouped), DecimalSeparator::Comma).unwrap(), expected.clone());
        prop_assert_eq!(parse_number(CellRef::Text(&comma_spaced), DecimalSeparator::Comma).unwrap(), expected.clone());
        let negative = format!("-{dot_grouped}");
        let neg = parse_number(CellRef::Text(&negative), DecimalSeparator::Dot).unwrap();
        if expected == "0" {
            prop_assert_eq!(neg, "0");
        } else {
            prop_assert_eq!(neg, format!("-{expected}"));
        }
    }

    #[test]
    fn excel_floats_round_trip_without_exponent_or_trailing_zero(int in -999_999_999_999_999i64..999_999_999_999_999, cents in 0u32..100) {
        let whole = int as f64;
        let s = format_float(whole);
        prop_assert!(!s.contains('e') && !s.contains('E') && !s.ends_with(".0"), "{}", s);
        prop_assert_eq!(s.parse::<f64>().unwrap(), whole);
        prop_assert_eq!(parse_number(CellRef::Number(whole), DecimalSeparator::Dot).unwrap(), s);
        if int.abs() < 1_000_000_000 {
            let v = int as f64 + f64::from(cents) / 100.0 * int.signum() as f64;
            let t = format_float(v);
            prop_assert!(!t.contains('e'), "{}", t);
            prop_assert!((t.parse::<f64>().unwrap() - v).abs() < 1e-6, "{} vs {}", t, v);
        }
    }

    #[test]
    fn integers_accept_whole_numbers_and_refuse_fractions(n in 0u64..10_000_000, frac in 1u32..99) {
        prop_assert_eq!(parse_integer(CellRef::Text(&n.to_string()), DecimalSeparator::Dot).unwrap(), n.to_string());
        prop_assert_eq!(parse_integer(CellRef::Number(n as f64), DecimalSeparator::Dot).unwrap(), n.to_string());
        let fractional = format!("{n},{frac:02}");
        prop_assert!(parse_integer(CellRef::Text(&fractional), DecimalSeparator::Comma).is_err());
    }

    #[test]
    fn date_parsing_never_panics(s in ".{0,30}", serial in -1e7f64..1e7) {
        let formats = vec![DateFormat::new("%d/%m/%Y").unwrap(), DateFormat::new("%Y-%m-%d").unwrap()];
        let _ = parse_date(CellRef::Text(&s), &formats);
        let _ = parse_date(CellRef::Number(serial), &formats);
        let _ = excel_serial_to_date(serial, true);
    }

    #[test]
    fn dates_written_in_a_format_read_back(days in 0i64..2_900_000, fmt in prop::sample::select(vec!["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y%m%d"])) {
        let date = chrono::NaiveDate::from_ymd_opt(1000, 1, 1).unwrap() + chrono::Duration::days(days % 3_000_000);
        prop_assume!(chrono::Datelike::year(&date) <= 9999);
        let f = DateFormat::new(fmt).unwrap();
        let text = f.format(date);
        prop_assert_eq!(parse_date(CellRef::Text(&text), std::slice::from_ref(&f)).unwrap(), date);
    }

    #[test]
    fn excel_serials_and_dates_agree(serial in 1463u32..2_958_465) {
        let d = excel_serial_to_date(f64::from(serial), false).unwrap();
        let back = (d - chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()).num_days();
        prop_assert_eq!(back, i64::from(serial));
        let d1904 = excel_serial_to_date(f64::from(serial) - 1462.0, true).unwrap();
        prop_assert_eq!(d, d1904);
    }
}

fn plan() -> Plan {
    let m = Mapping::parse(
        r#"
[source]
decimal_separator = ","
[request]
operation = "cobranza"
[fields]
wolkvox_id = "Registro"
id = "Obligación"
total_balance = { column = "Saldo", type = "number" }
days_delay = { column = "Mora", type = "integer", required = false }
expiring_date = { column = "Vence", type = "date", required = false }
"#,
    )
    .unwrap();
    let header = Header {
        names: ["Registro", "Obligación", "Saldo", "Mora", "Vence", "Extra"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        row: 1,
        format: Format::Workbook,
    };
    Plan::new(&m, &header, "cobranza").unwrap()
}

fn any_cell() -> impl Strategy<Value = Cell> {
    prop_oneof![
        Just(Cell::Empty),
        ".{0,12}".prop_map(Cell::Text),
        "[0-9.,$ -]{0,12}".prop_map(Cell::Text),
        any::<f64>().prop_map(Cell::Number),
        any::<i64>().prop_map(Cell::Int),
        any::<bool>().prop_map(Cell::Bool),
        (0i64..3_000_000).prop_map(|d| Cell::Date(
            chrono::NaiveDate::from_ymd_opt(1000, 1, 1).unwrap() + chrono::Duration::days(d)
        )),
        Just(Cell::Error("#N/A".into())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Any row maps to a body whose every value is a string, or to an error
    /// that names what is wrong; never a panic.
    #[test]
    fn mapping_any_row_gives_a_string_body_or_a_located_error(cells in prop::collection::vec(any_cell(), 0..8)) {
        let p = plan();
        let row = Row::from_cells(7, cells);
        match p.map_row(&row) {
            Ok(m) => {
                let v: serde_json::Value = serde_json::from_str(&m.body).unwrap();
                prop_assert!(v["operation"].is_string() && v["wolkvox_id"].is_string());
                let fields = v["fields"].as_object().unwrap();
                prop_assert_eq!(fields.len(), 9, "eight fields and form");
                for (k, val) in fields {
                    if k == "form" {
                        for e in val.as_array().unwrap() {
                            prop_assert!(e["name"].is_string() && e["value"].is_string());
                        }
                    } else {
                        prop_assert!(val.is_string(), "{} is {}", k, val);
                    }
                }
                prop_assert!(!m.id.is_empty() && !m.wolkvox_id.is_empty());
            }
            Err(e) => prop_assert!(e.message.contains("column \"") || e.message.contains("row"), "{}", e.message),
        }
    }

    /// Arbitrary bytes named .csv either read row by row or are refused
    /// with a message; never a panic.
    #[test]
    fn any_bytes_as_csv_read_or_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(mut src) = Source::open(&path, &SourceOptions::default()) {
            let mut last = src.header().row;
            while let Ok(Some(row)) = src.next_row() {
                prop_assert!(row.number > last, "rows increase: {} after {}", row.number, last);
                last = row.number;
            }
        }
    }
}
