//! `wolkvox-import` loads bank debt portfolios (CSV and Excel) into the
//! collections module of the wolkvox CRM through its `insertObligation` API.
//!
//! The stages, one module each:
//! - [`source`] reads a portfolio file row by row in bounded memory;
//! - [`value`] and [`mapping`] turn a row into the exact request body, or a
//!   located explanation of why it cannot be sent;
//! - [`problem`] is a row's problem as data (kind, column, value), which
//!   the results file's `error` and the report are made from;
//! - [`crm`] talks to the API and classifies its answers;
//! - [`import`] moves rows from the reader through the workers to the
//!   collector, which alone records outcomes in the [`ledger`] (what was
//!   sent, across runs) and writes the [`results`] file; `workbook_out`
//!   turns results and rejects into workbooks when their names ask for one;
//! - `report` aggregates a run as it goes and writes it as one HTML page;
//! - `outputs` checks where the files of a run go before anything is sent;
//! - [`inspect`] and [`mapping::init`] help a person write a mapping;
//! - `fake_crm` is a local stand-in for the API, for rehearsals and tests;
//!   it comes with the `fake-crm` feature (on by default), which an
//!   embedder that only imports can turn off to leave its HTTP server out;
//! - `fingerprint_table` is the compact hash table behind the duplicate
//!   check and the ledger's obligations in memory.

#![warn(missing_docs)]

pub(crate) mod batches;
pub mod crm;
#[cfg(feature = "fake-crm")]
pub mod fake_crm;
pub(crate) mod fingerprint_table;
pub mod i18n;
pub mod import;
pub mod inspect;
pub mod ledger;
pub mod mapping;
pub(crate) mod outputs;
pub mod problem;
pub(crate) mod report;
pub mod results;
pub mod source;
pub mod value;
pub(crate) mod workbook_out;
