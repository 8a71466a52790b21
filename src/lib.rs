//! `wolkvox-import` loads bank debt portfolios (CSV and Excel) into the
//! collections module of the wolkvox CRM through its `insertObligation` API.
//!
//! The stages, one module each:
//! - [`source`] reads a portfolio file row by row in bounded memory;
//! - [`value`] and [`mapping`] turn a row into the exact request body, or a
//!   located explanation of why it cannot be sent;
//! - [`crm`] talks to the API and classifies its answers;
//! - [`import`] moves rows from the reader through the workers to the
//!   collector, which alone records outcomes in the [`ledger`] (what was
//!   sent, across runs) and writes the [`results`] report, and draws
//!   [`progress`]; [`workbook_out`] turns results and rejects into
//!   workbooks when their names ask for one;
//! - [`outputs`] checks where the files of a run go before anything is sent;
//! - [`inspect`] and [`mapping::init`] help a person write a mapping;
//! - [`fake_crm`] is a local stand-in for the API, for rehearsals and tests;
//! - [`fingerprint_table`] is the compact hash table behind the duplicate
//!   check and the ledger's obligations in memory.

pub mod cli;
pub mod crm;
pub mod fake_crm;
pub mod fingerprint_table;
pub mod i18n;
pub mod import;
pub mod inspect;
pub mod ledger;
pub mod mapping;
pub mod outputs;
pub mod progress;
pub mod results;
pub mod source;
pub mod value;
pub mod workbook_out;
