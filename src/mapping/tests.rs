use super::*;
use crate::source::{Format, Header};
use crate::value::Cell;
use chrono::NaiveDate;

fn header(names: &[&str]) -> Header {
    Header {
        names: names.iter().map(|s| s.to_string()).collect(),
        row: 1,
        format: Format::Csv,
    }
}

const BASIC: &str = r#"
[source]
decimal_separator = ","
date_formats = ["%d/%m/%Y"]
[request]
operation = "cobranza"
[fields]
wolkvox_id = "ID Registro"
id = "Nro Obligación"
name = "Producto"
total_balance = { column = "Saldo Total", type = "number" }
portfolio_type = { value = "Consumo" }
last_pay = { column = "Valor Último Pago", type = "number", default = "0" }
expiring_date = { column = "Fecha Vencimiento", type = "date" }
days_delay = { column = "Días Mora", type = "integer" }
[form]
exclude = ["Interno"]
rename = { "Tel Celular" = "Celular" }
"#;

const HEADERS: &[&str] = &[
    "ID Registro",
    "Nro Obligación",
    "Producto",
    "Saldo Total",
    "Valor Último Pago",
    "Fecha Vencimiento",
    "Días Mora",
    "Ciudad",
    "Tel Celular",
    "Interno",
];

fn plan(text: &str, names: &[&str]) -> Result<Plan, MappingError> {
    let m = Mapping::parse(text)?;
    let op = m.operation.clone().unwrap_or_default();
    Plan::new(&m, &header(names), &op, BodyShape::Full)
}

fn body(p: &Plan, cells: &[&str]) -> serde_json::Value {
    let row = Row::from_texts(2, cells);
    let mapped = p
        .map_row(&row)
        .unwrap_or_else(|e| panic!("row refused: {}", e.message));
    serde_json::from_str(&mapped.body).unwrap()
}

#[test]
fn a_good_row_becomes_the_exact_body() {
    let p = plan(BASIC, HEADERS).unwrap();
    let b = body(
        &p,
        &[
            "R-77",
            "000123",
            "Tarjeta",
            "$ 1.234.567,89",
            "",
            "31/01/2025",
            "90",
            "Bogotá",
            "3001234567",
            "secreto",
        ],
    );
    assert_eq!(
        b,
        serde_json::json!({
            "operation": "cobranza",
            "wolkvox_id": "R-77",
            "fields": {
                "id": "000123",
                "name": "Tarjeta",
                "total_balance": "1234567.89",
                "portfolio_type": "Consumo",
                "last_pay": "0",
                "last_pay_date": "",
                "expiring_date": "31-01-2025",
                "days_delay": "90",
                "form": [
                    {"name": "Ciudad", "value": "Bogotá"},
                    {"name": "Celular", "value": "3001234567"}
                ]
            }
        })
    );
}

#[test]
fn body_keys_are_in_api_order_and_all_strings() {
    let p = plan(BASIC, HEADERS).unwrap();
    let row = Row::from_texts(
        2,
        &["R", "1", "P", "10", "5", "01/01/2025", "3", "", "", ""],
    );
    let mapped = p.map_row(&row).unwrap();
    assert!(mapped.body.starts_with(r#"{"operation":"cobranza","wolkvox_id":"R","fields":{"id":"1","name":"P","total_balance":"10","portfolio_type":"Consumo","last_pay":"5","last_pay_date":"","expiring_date":"01-01-2025","days_delay":"3","form":[]}}"#), "{}", mapped.body);
}

#[test]
fn cell_errors_name_the_column_and_value() {
    let p = plan(BASIC, HEADERS).unwrap();
    let row = Row::from_texts(
        7,
        &["R", "9", "P", "abc", "", "31/02/2024", "12,5", "", "", ""],
    );
    let e = p.map_row(&row).unwrap_err();
    assert_eq!(e.id, "9");
    assert_eq!(e.wolkvox_id, "R");
    assert_eq!(
        e.message,
        "column \"Saldo Total\": \"abc\" is not a number (decimal separator \",\"); \
         column \"Fecha Vencimiento\": \"31/02/2024\" is not a real date; \
         column \"Días Mora\": \"12,5\" is not a whole number"
    );
}

#[test]
fn required_fields_must_not_be_empty() {
    let p = plan(BASIC, HEADERS).unwrap();
    let row = Row::from_texts(3, &["R", " ", "P", "1", "", "01/01/2025", "1", "", "", ""]);
    assert_eq!(
        p.map_row(&row).unwrap_err().message,
        "column \"Nro Obligación\" is empty"
    );
    let lenient = BASIC.replace(
        "name = \"Producto\"",
        "name = { column = \"Producto\", required = false }",
    );
    let p = plan(&lenient, HEADERS).unwrap();
    let row = Row::from_texts(3, &["R", "5", "", "1", "", "01/01/2025", "1", "", "", ""]);
    assert!(p.map_row(&row).is_ok());
}

#[test]
fn workbook_cells_convert_without_float_artefacts() {
    let p = plan(BASIC, HEADERS).unwrap();
    let d = NaiveDate::from_ymd_opt(2025, 3, 9).unwrap();
    let row = Row::from_cells(
        5,
        vec![
            Cell::Number(4411.0),
            Cell::Number(1_234_567_890_123.0),
            Cell::Text("Crédito".into()),
            Cell::Number(10000.0),
            Cell::Empty,
            Cell::Date(d),
            Cell::Number(30.0),
            Cell::Date(d),
            Cell::Number(3001234567.0),
        ],
    );
    let b: serde_json::Value = serde_json::from_str(&p.map_row(&row).unwrap().body).unwrap();
    assert_eq!(b["wolkvox_id"], "4411");
    assert_eq!(b["fields"]["id"], "1234567890123");
    assert_eq!(b["fields"]["total_balance"], "10000");
    assert_eq!(b["fields"]["expiring_date"], "09-03-2025");
    assert_eq!(b["fields"]["days_delay"], "30");
    assert_eq!(
        b["fields"]["form"][0],
        serde_json::json!({"name": "Ciudad", "value": "09-03-2025"})
    );
    assert_eq!(
        b["fields"]["form"][1],
        serde_json::json!({"name": "Celular", "value": "3001234567"})
    );
}

#[test]
fn error_cells_make_the_row_invalid_naming_the_cell() {
    let p = plan(BASIC, HEADERS).unwrap();
    let row = Row::from_cells(
        9,
        vec![
            Cell::Text("R".into()),
            Cell::Text("1".into()),
            Cell::Text("P".into()),
            Cell::Error("#DIV/0!".into()),
            Cell::Empty,
            Cell::Text("01/01/2025".into()),
            Cell::Int(3),
            Cell::Error("#N/A".into()),
        ],
    );
    let e = p.map_row(&row).unwrap_err();
    assert_eq!(
        e.message,
        "column \"Saldo Total\": holds the error value #DIV/0!; column \"Ciudad\": holds the error value #N/A"
    );
}

#[test]
fn columns_match_trimmed_and_case_insensitively() {
    let names = [
        " id registro ",
        "NRO OBLIGACIÓN",
        "producto",
        "Saldo Total",
        "Valor Último Pago",
        "Fecha Vencimiento",
        "Días Mora",
        "Interno",
        "Tel Celular",
    ];
    assert!(plan(BASIC, &names).is_ok());
}

#[test]
fn missing_columns_are_all_reported_with_a_suggestion() {
    let mut names: Vec<&str> = HEADERS.to_vec();
    names[3] = "Saldo  Total ";
    names[6] = "Dias Mora";
    let e = plan(BASIC, &names).unwrap_err().0;
    assert_eq!(
        e,
        "[fields] total_balance: column \"Saldo Total\" not found; did you mean \"Saldo  Total \"?\n\
         [fields] days_delay: column \"Días Mora\" not found; did you mean \"Dias Mora\"?"
    );
}

#[test]
fn a_missing_column_with_nothing_close_lists_the_columns() {
    let text =
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"Registro\"\nid = \"Obligación\"\n";
    let e = plan(text, &["Registro", "Saldo"]).unwrap_err().0;
    assert_eq!(
        e,
        "[fields] id: column \"Obligación\" not found; the columns are \"Registro\", \"Saldo\""
    );
}

#[test]
fn form_exclude_and_rename_must_name_real_columns() {
    let text = BASIC.replace("exclude = [\"Interno\"]", "exclude = [\"Internos\"]");
    let e = plan(&text, HEADERS).unwrap_err().0;
    assert_eq!(
        e,
        "[form] exclude: column \"Internos\" not found; did you mean \"Interno\"?"
    );
}

#[test]
fn extra_columns_none_sends_an_empty_form_never() {
    let text = BASIC.replace("[form]\n", "[form]\nextra_columns = \"none\"\n");
    let p = plan(&text, HEADERS).unwrap();
    let b = body(
        &p,
        &["R", "1", "P", "1", "", "01/01/2025", "1", "x", "y", "z"],
    );
    assert!(b["fields"].get("form").is_none());
}

#[test]
fn mapped_only_shape_leaves_unmapped_fields_out() {
    let m = Mapping::parse(BASIC).unwrap();
    let p = Plan::new(&m, &header(HEADERS), "cobranza", BodyShape::MappedOnly).unwrap();
    let row = Row::from_texts(2, &["R", "1", "P", "1", "", "01/01/2025", "1", "", "", ""]);
    let b: serde_json::Value = serde_json::from_str(&p.map_row(&row).unwrap().body).unwrap();
    assert!(b["fields"].get("last_pay_date").is_none());
    assert!(b["fields"].get("form").is_none());
    assert_eq!(b["fields"]["last_pay"], "0");
}

#[test]
fn mapping_file_problems_are_all_reported() {
    let text = r#"
[source]
delimiter = ";;"
encoding = "klingon"
decimal_separator = "'"
header_row = 0
date_formats = ["%Q"]
[request]
operation = "  "
date_format = "%d-%m-%Y"
[fields]
name = { column = "A", value = "B" }
days_delay = { column = "D", type = "integer", formats = ["%d/%m/%Y"] }
total_balance = { value = "abc", type = "number" }
"#;
    let e = Mapping::parse(text).unwrap_err().0;
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(
        lines,
        vec![
            "[source] delimiter = \";;\": a delimiter is one character such as \";\" \",\" \"|\" or \"\\t\"",
            "[source] encoding = \"klingon\" is not an encoding name; use e.g. \"windows-1252\", \"iso-8859-1\" or \"utf-8\"",
            "[source] decimal_separator = \"'\": use \".\" or \",\"",
            "[source] header_row = 0: rows are numbered from 1",
            "[source] date_formats: \"%Q\" is not a valid date format (use strftime codes such as %d/%m/%Y)",
            "[request] operation is empty; set it to your CRM operation's name",
            "[fields] wolkvox_id is required: the column (or constant) with the collections record each obligation belongs to",
            "[fields] id is required: the column with the obligation's number",
            "[fields] name has both column and value; use column to read it from the file or value for a constant, not both",
            "[fields] total_balance: value \"abc\" is not a number (decimal separator \".\")",
            "[fields] days_delay: formats only apply to type = \"date\"",
        ]
    );
}

#[test]
fn constants_and_defaults_are_converted_by_type() {
    let text = r#"
[request]
operation = "x"
[fields]
wolkvox_id = { value = "REC-1" }
id = "Nro"
expiring_date = { value = "2025-12-31", type = "date", formats = ["%Y-%m-%d"] }
last_pay = { column = "Pago", type = "number", default = "0.00" }
"#;
    let p = plan(text, &["Nro", "Pago"]).unwrap();
    let b = body(&p, &["7", ""]);
    assert_eq!(b["wolkvox_id"], "REC-1");
    assert_eq!(b["fields"]["expiring_date"], "31-12-2025");
    assert_eq!(b["fields"]["last_pay"], "0");
}

#[test]
fn row_problems_from_the_reader_make_the_row_invalid() {
    let p = plan(BASIC, HEADERS).unwrap();
    let mut row = Row::from_texts(4, &["R", "1"]);
    row.problem = Some("the row has 2 cells but the header has 10".into());
    let e = p.map_row(&row).unwrap_err();
    assert!(
        e.message
            .starts_with("the row has 2 cells but the header has 10"),
        "{}",
        e.message
    );
}

#[test]
fn report_fields_come_from_the_converted_values_only_when_asked() {
    let m = Mapping::parse(BASIC).unwrap();
    let h = header(HEADERS);
    let plan = Plan::new(&m, &h, "cobranza", BodyShape::Full).unwrap();
    let cells = [
        "REG-1",
        "000123",
        "Tarjeta",
        "$ 1.234.567,89",
        "0",
        "31/01/2024",
        "45",
    ];
    let mut texts: Vec<&str> = cells.to_vec();
    texts.resize(HEADERS.len(), "");
    let row = Row::from_texts(2, &texts);
    assert_eq!(plan.map_row(&row).unwrap().report, None);
    let plan = plan.with_report_fields();
    let r = plan.map_row(&row).unwrap().report.unwrap();
    assert_eq!(r.total_balance, Some(1_234_567.89));
    assert_eq!(r.days_delay, Some(45));
    // A constant counts as the row's value.
    assert_eq!(r.portfolio_type.as_deref(), Some("Consumo"));
}
