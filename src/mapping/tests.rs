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
    Plan::new(&m, &header(names), &op)
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

/// (kind, column, value) of each problem of a row refused.
fn problems_of(p: &Plan, row: &Row) -> Vec<(Kind, Option<String>, Option<String>)> {
    let e = p.map_row(row).unwrap_err();
    assert_eq!(e.message, crate::problem::error_text(&e.problems));
    e.problems
        .into_iter()
        .map(|p| (p.kind, p.column, p.value))
        .collect()
}

#[test]
fn each_problem_is_decided_where_it_is_found_with_its_column_and_value() {
    let p = plan(BASIC, HEADERS).unwrap();
    let s = |v: &str| Some(v.to_string());
    let row = Row::from_texts(
        7,
        &["R", "", "P", "1.5", "x", "2024/13/45", "12,5", "", "", ""],
    );
    assert_eq!(
        problems_of(&p, &row),
        [
            (Kind::Empty, s("Nro Obligación"), s("")),
            (Kind::DecimalSeparator, s("Saldo Total"), s("1.5")),
            (Kind::NotANumber, s("Valor Último Pago"), s("x")),
            (Kind::NotADate, s("Fecha Vencimiento"), s("2024/13/45")),
            (Kind::NotWhole, s("Días Mora"), s("12,5")),
        ]
    );
    // The reader's problem with the row comes first; a workbook's cells
    // are judged by what they hold.
    let mut row = Row::from_cells(
        8,
        vec![
            Cell::Text("R".into()),
            Cell::Text("1".into()),
            Cell::Text("P".into()),
            Cell::Bool(true),
            Cell::Empty,
            Cell::Number(60.0),
            Cell::Error("#N/A".into()),
            Cell::Empty,
            Cell::Number(4_540_410_858_241_234.0),
        ],
    );
    row.problem = Some(Problem::of_row(Kind::Row, "read badly".into()));
    assert_eq!(
        problems_of(&p, &row),
        [
            (Kind::Row, None, None),
            (Kind::WrongType, s("Saldo Total"), s("TRUE")),
            (Kind::ImpossibleDate, s("Fecha Vencimiento"), s("60")),
            (Kind::ErrorValue, s("Días Mora"), s("#N/A")),
            (Kind::Cell, s("Tel Celular"), s("4540410858241230")),
        ]
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
    let b = body(&p, &["R", "5", "", "1", "", "01/01/2025", "1", "", "", ""]);
    // Not required and empty: sent as "".
    assert_eq!(b["fields"]["name"], "");
    assert_eq!(b["fields"]["id"], "5");
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
    let p = plan(BASIC, &names).unwrap();
    // Each field reads the column it names, however the file spells it: a
    // distinct value per column shows which column each field got.
    let b = body(
        &p,
        &[
            "R-7",
            "000456",
            "Libranza",
            "2.500,5",
            "12,5",
            "28/02/2025",
            "30",
            "solo interno",
            "3109876543",
        ],
    );
    assert_eq!(
        b,
        serde_json::json!({
            "operation": "cobranza",
            "wolkvox_id": "R-7",
            "fields": {
                "id": "000456",
                "name": "Libranza",
                "total_balance": "2500.5",
                "portfolio_type": "Consumo",
                "last_pay": "12.5",
                "last_pay_date": "",
                "expiring_date": "28-02-2025",
                "days_delay": "30",
                "form": [{"name": "Celular", "value": "3109876543"}]
            }
        })
    );
}

#[test]
fn missing_columns_are_all_reported_with_a_suggestion() {
    let mut names: Vec<&str> = HEADERS.to_vec();
    names[3] = "Saldo  Total ";
    names[6] = "Dias Mora";
    let e = plan(BASIC, &names).unwrap_err().to_string();
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
    let e = plan(text, &["Registro", "Saldo"]).unwrap_err().to_string();
    assert_eq!(
        e,
        "[fields] id: column \"Obligación\" not found; the columns are \"Registro\", \"Saldo\""
    );
}

#[test]
fn form_exclude_and_rename_must_name_real_columns() {
    let text = BASIC.replace("exclude = [\"Interno\"]", "exclude = [\"Internos\"]");
    let e = plan(&text, HEADERS).unwrap_err().to_string();
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
fn update_bodies_carry_only_the_mapped_fields_in_the_apis_order() {
    let m = Mapping::parse(BASIC).unwrap();
    let p = Plan::new(&m, &header(HEADERS), "cobranza").unwrap();
    let shape = p.update_shape();
    // No form entry: no form. An empty mapped value stays, as "".
    let row = Row::from_texts(2, &["R", "1", "P", "1", "", "01/01/2025", "1", "", "", ""]);
    let full = p.map_row(&row).unwrap().body;
    let update = shape.body(&full);
    let b: serde_json::Value = serde_json::from_str(&update).unwrap();
    assert!(b["fields"].get("last_pay_date").is_none());
    assert!(b["fields"].get("form").is_none());
    assert_eq!(b["fields"]["last_pay"], "0");
    // Byte for byte what the full body says, less what the mapping omits.
    let keys: Vec<&str> = b["fields"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let full_v: serde_json::Value = serde_json::from_str(&full).unwrap();
    let full_keys: Vec<&str> = full_v["fields"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|k| keys.contains(k))
        .collect();
    assert_eq!(keys, full_keys, "same order as the full body");
    assert!(update
        .starts_with("{\"operation\":\"cobranza\",\"wolkvox_id\":\"R\",\"fields\":{\"id\":\"1\""));
    // A form entry: the form goes along, escaped as the full body has it.
    let row = Row::from_texts(
        2,
        &[
            "R",
            "1",
            "P",
            "1",
            "",
            "01/01/2025",
            "1",
            "Quote \" é",
            "",
            "",
        ],
    );
    let full = p.map_row(&row).unwrap().body;
    let update = shape.body(&full);
    let form_of = |s: &str| s[s.find("\"form\"").unwrap()..].to_string();
    assert_eq!(form_of(&update), form_of(&full));
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
    let e = Mapping::parse(text).unwrap_err().to_string();
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
            "[fields] wolkvox_id is required: the CRM's id of the collections record each obligation is added to, from a column, a lookup or a constant (docs/mapping.md, \"Where wolkvox_id comes from\")",
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
    row.problem = Some(Problem::of_row(
        Kind::RowWidth,
        "the row has 2 cells but the header has 10".into(),
    ));
    let e = p.map_row(&row).unwrap_err();
    assert!(
        e.message
            .starts_with("the row has 2 cells but the header has 10"),
        "{}",
        e.message
    );
}

#[test]
fn a_header_of_one_name_is_explained_once() {
    let text = "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n";
    // Read with the wrong delimiter: one message, no per-field ones.
    let e = plan(text, &["a;b;c"]).unwrap_err().to_string();
    assert_eq!(
        e,
        "the header (row 1) has one column, \"a;b;c\"; the file looks \";\"-separated: \
         set delimiter = \";\" in [source], or remove delimiter to have it detected"
    );
    // A title: one message, where the header may be, instead of a "not
    // found" per field that each list the title.
    let e = plan(text, &["Banco Ejemplo, cartera", ""])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "the header (row 1) has a single column, \"Banco Ejemplo, cartera\", which looks like a title: \
         if the column names are on a lower row, set header_row to that row in [source] \
         (inspect --header-row N shows the columns of row N)"
    );
    // A header of one name that fits is fine.
    let one =
        "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = { value = \"R1\" }\nid = \"b\"\n";
    let b = body(&plan(one, &["b"]).unwrap(), &["OB-9"]);
    assert_eq!(b["wolkvox_id"], "R1");
    assert_eq!(b["fields"]["id"], "OB-9");
}

#[test]
fn renames_to_one_name_are_warned_about() {
    let text = "[request]\noperation = \"x\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n\
                [form]\nrename = { \"Tel 1\" = \"Tel\" }\n";
    let p = plan(text, &["a", "b", "Tel 1", "tel", "", "Ciudad"]).unwrap();
    assert_eq!(
        p.warnings(),
        [
            "[form]: columns \"Tel 1\" and \"tel\" are both sent in form as \"tel\"; \
          the CRM gets two entries of that name (check [form] rename)"
        ]
    );
    assert_eq!(p.unnamed_columns(), [4]);
    let p = plan(text, &["a", "b", "Tel 1", "Ciudad"]).unwrap();
    assert!(p.warnings().is_empty());
}

// ---------------------------------------------------------------- lookups

const JOINED: &str = r#"
[request]
operation = "cobranza"
[lookups.expedientes]
file = "expedientes.csv"
key = "Identificación"
value = "wolkvox_id"
normalize = "digits"
[fields]
wolkvox_id = { column = "Cédula", lookup = "expedientes" }
id = "Nro Obligación"
"#;

/// The table `[lookups.expedientes]` of `text` would read, from rows in
/// memory: `(key, value)` from row 2 on.
fn table(text: &str, rows: &[(&str, &str)]) -> lookup::LookupTable {
    let m = Mapping::parse(text).unwrap();
    let spec = m.lookups.iter().find(|l| l.name == "expedientes").unwrap();
    lookup::LookupTable::from_cells(
        spec,
        rows.iter()
            .enumerate()
            .map(|(i, (k, v))| (i as u64 + 2, CellRef::Text(k), CellRef::Text(v))),
    )
    .unwrap()
}

fn joined_plan(text: &str, names: &[&str], rows: &[(&str, &str)]) -> Result<Plan, MappingError> {
    let m = Mapping::parse(text)?;
    let lookups = lookup::Lookups::from_tables([table(text, rows)]);
    Plan::new_with_lookups(&m, &lookups, &header(names), "cobranza")
}

const RECORDS: &[(&str, &str)] = &[("1020345678", "61fa3"), ("98765432", "7b2c1")];

#[test]
fn a_lookup_gives_the_field_the_value_of_the_key_in_the_cell() {
    let p = joined_plan(JOINED, &["Cédula", "Nro Obligación", "Ciudad"], RECORDS).unwrap();
    let b = body(&p, &["1.020.345.678", "OB1", "Cali"]);
    assert_eq!(b["wolkvox_id"], "61fa3");
    // The key column is used, so it is not sent in form.
    assert_eq!(
        b["fields"]["form"],
        serde_json::json!([{"name": "Ciudad", "value": "Cali"}])
    );
    assert_eq!(body(&p, &["0098765432", "OB2", ""])["wolkvox_id"], "7b2c1");
    let mapped = p
        .map_row(&Row::from_cells(
            4,
            vec![Cell::Number(98765432.0), Cell::Text("OB3".into())],
        ))
        .unwrap();
    assert_eq!(mapped.wolkvox_id, "7b2c1");
}

#[test]
fn a_key_not_found_makes_the_row_invalid_naming_column_value_and_file() {
    let p = joined_plan(JOINED, &["Cédula", "Nro Obligación"], RECORDS).unwrap();
    let e = p
        .map_row(&Row::from_texts(9, &["55.555.555", "OB9"]))
        .unwrap_err();
    assert_eq!(
        e.message,
        "column \"Cédula\": \"55.555.555\" is not in expedientes.csv (column \"Identificación\"); \
         check the cell, or add its record to expedientes.csv"
    );
    // As data too, with the file the key is not in.
    let mut want = Problem::in_cell(
        Kind::NotInLookup,
        "Cédula",
        Some("55.555.555".into()),
        "\"55.555.555\" is not in expedientes.csv (column \"Identificación\"); \
         check the cell, or add its record to expedientes.csv"
            .into(),
    );
    want.lookup = Some("expedientes.csv".into());
    assert_eq!(e.problems, [want]);
    // The key is not the id it stands for: the results show no wolkvox_id.
    assert_eq!(e.wolkvox_id, "");
    assert_eq!(e.id, "OB9");
    let e = p
        .map_row(&Row::from_texts(10, &["N/A", "OB10"]))
        .unwrap_err();
    assert!(e.message.contains("\"N/A\" has no digits"), "{}", e.message);
    // Its own kind: the summary and the report group it apart from other
    // problems of the column.
    assert_eq!(e.problems[0].kind, Kind::LookupNoKey);
    assert_eq!(e.problems[0].value.as_deref(), Some("N/A"));
    let e = p.map_row(&Row::from_texts(11, &["", "OB11"])).unwrap_err();
    assert_eq!(e.message, "column \"Cédula\" is empty");
}

#[test]
fn looked_up_values_are_converted_by_the_field_type() {
    let text = r#"
[request]
operation = "cobranza"
[lookups.expedientes]
file = "saldos.csv"
key = "Nro"
value = "Saldo"
decimal_separator = ","
[fields]
wolkvox_id = "Registro"
id = "Nro"
total_balance = { column = "Nro", lookup = "expedientes", type = "number" }
"#;
    let p = joined_plan(
        text,
        &["Registro", "Nro"],
        &[("A1", "1.234,50"), ("A2", "")],
    )
    .unwrap();
    assert_eq!(body(&p, &["R", "A1"])["fields"]["total_balance"], "1234.5");
    let e = p.map_row(&Row::from_texts(3, &["R", "A2"])).unwrap_err();
    assert_eq!(
        e.message,
        "column \"Nro\": \"A2\" is in saldos.csv (row 3) but its \"Saldo\" is empty; fill it in there"
    );
}

#[test]
fn form_entries_are_sent_after_the_extra_columns_in_the_written_order() {
    let text = format!(
        "{JOINED}\n[form.entries]\n\"Zona\" = {{ value = \"Norte\" }}\n\"Expediente\" = {{ column = \"Cédula\", lookup = \"expedientes\" }}\n\"Cédula\" = \"Cédula\"\n"
    );
    let p = joined_plan(&text, &["Cédula", "Nro Obligación", "Ciudad"], RECORDS).unwrap();
    let b = body(&p, &["1020345678", "OB1", "Cali"]);
    assert_eq!(
        b["fields"]["form"],
        serde_json::json!([
            {"name": "Ciudad", "value": "Cali"},
            {"name": "Zona", "value": "Norte"},
            {"name": "Expediente", "value": "61fa3"},
            {"name": "Cédula", "value": "1020345678"}
        ])
    );
    // A key the field could not find is reported once, not per use.
    let e = p
        .map_row(&Row::from_texts(5, &["777", "OB5", ""]))
        .unwrap_err();
    assert_eq!(e.message.matches("is not in").count(), 1, "{}", e.message);

    // With extra_columns = "none", form holds the entries alone.
    let none = text.replace(
        "[form.entries]",
        "[form]\nextra_columns = \"none\"\n[form.entries]",
    );
    let p = joined_plan(&none, &["Cédula", "Nro Obligación", "Ciudad"], RECORDS).unwrap();
    let form = &body(&p, &["1020345678", "OB1", "Cali"])["fields"]["form"];
    assert_eq!(form.as_array().unwrap().len(), 3, "{form}");
}

#[test]
fn a_form_entry_may_not_take_the_name_of_an_extra_column() {
    let text = format!("{JOINED}\n[form.entries]\n\"ciudad\" = {{ value = \"x\" }}\n");
    let e = joined_plan(&text, &["Cédula", "Nro Obligación", "Ciudad"], RECORDS).unwrap_err();
    assert!(
        e.to_string()
            .contains("[form.entries] \"ciudad\": column \"Ciudad\" is also sent in form"),
        "{e}"
    );
}

#[test]
fn a_lookup_rule_without_its_table_is_refused_by_the_plain_plan() {
    let m = Mapping::parse(JOINED).unwrap();
    let e = Plan::new(&m, &header(&["Cédula", "Nro Obligación"]), "x").unwrap_err();
    assert!(e.to_string().contains("[fields] wolkvox_id"), "{e}");
    assert!(
        e.to_string().contains("\"expedientes\" was not read"),
        "{e}"
    );
}

#[test]
fn lookup_mistakes_in_the_mapping_are_named() {
    let e = Mapping::parse(&JOINED.replace("lookup = \"expedientes\"", "lookup = \"expediente\""))
        .unwrap_err();
    assert!(
        e.to_string().contains(
            "[fields] wolkvox_id: lookup = \"expediente\": there is no [lookups.expediente]; did you mean \"expedientes\"?"
        ),
        "{e}"
    );
    let e = Mapping::parse(&JOINED.replace("column = \"Cédula\", lookup", "value = \"x\", lookup"))
        .unwrap_err();
    assert!(e.to_string().contains("lookup needs column"), "{e}");
    let e = Mapping::parse(&JOINED.replace(
        "lookup = \"expedientes\" }",
        "lookup = \"expedientes\", type = \"date\", formats = [\"%d/%m/%Y\"] }",
    ))
    .unwrap_err();
    assert!(
        e.to_string().contains("formats does not apply with lookup"),
        "{e}"
    );
    let e = Mapping::parse(&JOINED.replace("normalize = \"digits\"", "normalize = \"digitos\""))
        .unwrap_err();
    assert!(e.to_string().contains("unknown variant `digitos`"), "{e}");
    let e = Mapping::parse(&JOINED.replace("key = ", "llave = ")).unwrap_err();
    assert!(e.to_string().contains("unknown field `llave`"), "{e}");
    let e = Mapping::parse(&JOINED.replace(
        "file = \"expedientes.csv\"",
        "file = \" \"\ndelimiter = \";;\"",
    ))
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("[lookups.expedientes] file is empty"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("[lookups.expedientes] delimiter = \";;\""),
        "{e}"
    );
    let e = Mapping::parse(&format!(
        "{JOINED}\n[form.entries]\nX = {{ colum = \"Cédula\" }}\n"
    ))
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("did you mean `column` instead of `colum`?"),
        "{e}"
    );
}

#[test]
fn lookup_files_are_named_relative_to_the_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mappings").join("m.toml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        JOINED.replace("expedientes.csv", "../data/expedientes.csv"),
    )
    .unwrap();
    let m = Mapping::load(&path).unwrap();
    assert_eq!(
        m.lookups[0].path,
        dir.path().join("mappings").join("../data/expedientes.csv")
    );
    assert_eq!(m.lookups[0].file, "../data/expedientes.csv");
    assert!(m.uses_lookup("expedientes"));
    assert!(!m.uses_lookup("otro"));
}

#[test]
fn report_fields_come_from_the_converted_values_only_when_asked() {
    let m = Mapping::parse(BASIC).unwrap();
    let h = header(HEADERS);
    let plan = Plan::new(&m, &h, "cobranza").unwrap();
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

#[test]
fn a_mapping_error_names_its_file_and_each_problem_as_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    std::fs::write(
        &path,
        "[request]\noperation = \"\"\n[fields]\nwolkvox_id = \"R\"\nid = \"N\"\n\
         total_balance = { column = \"S\", value = \"1\" }\n",
    )
    .unwrap();
    let e = Mapping::load(&path).unwrap_err();
    assert_eq!(e.file(), Some(path.as_path()));
    assert_eq!(e.problems().len(), 2, "{:?}", e.problems());
    assert!(e.problems()[0].contains("operation"), "{e}");
    assert!(e.problems()[1].contains("both column and value"), "{e}");
    // Said as one message: the file, then each problem on its line.
    assert_eq!(
        e.to_string(),
        format!("{}: {}", path.display(), e.problems().join("\n"))
    );
    let e = e.with_context("the mapping does not fit".into());
    assert!(
        e.to_string().starts_with("the mapping does not fit\n"),
        "{e}"
    );
}
