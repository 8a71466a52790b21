//! `--report FILE.html`: one self-contained page per run that a person can
//! hand to the bank or a supervisor: what was run, how every row ended, the
//! problems grouped with what to do about them, charts of the portfolio
//! and, for a real run, its pace.
//!
//! Everything is aggregated while the rows stream past, in memory that does
//! not grow with the file ([`Portfolio`], [`Problems`], [`Timeline`]); no
//! row is kept. The page has no script, loads nothing (a Content Security
//! Policy forbids it), and escapes every value that came from the input.
//! Its words come from the message catalogs, in the run's language.

mod charts;
pub mod format;
mod page;
pub mod portfolio;
pub mod problems;
mod text;
pub mod timeline;

pub use portfolio::{MappedFields, Portfolio};
pub use problems::Problems;
pub use timeline::Timeline;

use std::path::{Path, PathBuf};

/// The mark in every report's `<head>` that tells a report written by this
/// tool (which a later run may replace) from someone else's file.
pub const GENERATOR_META: &str = r#"<meta name="generator" content="wolkvox-import">"#;

/// What a run aggregated for its report.
#[derive(Debug, Clone)]
pub struct Report {
    pub portfolio: Portfolio,
    pub problems: Problems,
    /// A real run's pace; `None` for a dry run.
    pub timeline: Option<Timeline>,
    /// The input's fingerprint as its reader computed it while reading
    /// every byte (a CSV); otherwise it is read again for the page.
    pub input_read: Option<std::sync::Arc<std::sync::OnceLock<u64>>>,
}

impl Report {
    pub fn new(fields: MappedFields, timeline: Option<Timeline>) -> Report {
        Report {
            portfolio: Portfolio::new(fields),
            problems: Problems::default(),
            timeline,
            input_read: None,
        }
    }
}

/// What the page's header says about the run.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub input: PathBuf,
    /// The input's fingerprint (xxh3 of its bytes), when it could be read.
    pub input_fingerprint: Option<String>,
    pub mapping: Option<PathBuf>,
    pub mapping_fingerprint: u64,
    pub operation: String,
    /// The server's host (never a full URL: that may hold more than a host).
    pub server: Option<String>,
    /// A real run's mode, or the mode a dry run planned for.
    pub mode: Option<crate::import::send::Mode>,
    pub dry_run: bool,
    pub started: chrono::DateTime<chrono::Local>,
    pub ended: chrono::DateTime<chrono::Local>,
}

/// The page, as text.
pub fn render(report: &Report, summary: &crate::import::Summary, facts: &RunFacts) -> String {
    page::render(report, summary, facts)
}

/// Writes the page to `path`.
pub fn write(
    path: &Path,
    report: &Report,
    summary: &crate::import::Summary,
    facts: &RunFacts,
) -> std::io::Result<()> {
    std::fs::write(path, render(report, summary, facts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::Summary;
    use crate::mapping::ReportFields;
    use crate::problem::{Kind, Problem};
    use crate::results::{Outcome, Status};

    const HOSTILE: &str = "<script>alert(\"x\")</script> & 'quoted' \"double\"";

    pub(super) fn facts() -> RunFacts {
        let now = chrono::Local::now();
        RunFacts {
            input: PathBuf::from("carteras/<script>alert(1)</script>.csv"),
            input_fingerprint: Some("0123456789abcdef".into()),
            mapping: Some(PathBuf::from("m&m.toml")),
            mapping_fingerprint: 42,
            operation: "cobranza\"><b>".into(),
            server: Some("crm0001.wolkvox.com".into()),
            mode: Some(crate::import::send::Mode::Insert),
            dry_run: false,
            started: now,
            ended: now,
        }
    }

    /// A report whose every input-borne value is hostile, with a 5 MB cell.
    pub(super) fn hostile() -> (Report, Summary) {
        let mut summary = Summary::new(false);
        let mut report = Report::new(
            MappedFields {
                total_balance: true,
                days_delay: true,
                portfolio_type: true,
            },
            Some(Timeline::new(std::time::Instant::now())),
        );
        let f = ReportFields {
            total_balance: Some(1234.5),
            days_delay: Some(45),
            portfolio_type: Some(HOSTILE.into()),
        };
        report.portfolio.add_fields(2, HOSTILE, &f);
        summary.count(&Outcome::new(2, Status::Created, "R", HOSTILE));
        let big = "A".repeat(5 * 1024 * 1024);
        let problems = [
            (Kind::NotANumber, "Saldo Total", HOSTILE.to_string()),
            (Kind::NotANumber, "Saldo Total", big),
            (
                Kind::ImpossibleDate,
                "Fecha\"><script>x</script>",
                HOSTILE.to_string(),
            ),
        ];
        for (i, (kind, column, value)) in problems.into_iter().enumerate() {
            let detail = format!("\"{value}\" is wrong");
            let p = Problem::in_cell(kind, column, Some(value), detail);
            let o =
                Outcome::new(3 + i as u64, Status::Invalid, HOSTILE, HOSTILE).with_error(p.text());
            summary.count(&o);
            report.problems.add(&o.line(), &[p]);
        }
        let o = Outcome::new(9, Status::Failed, "R", "OB")
            .with_error(format!("SOME PARAMETERS ARE REQUIRED: {HOSTILE}"))
            .with_kind(Kind::Refused);
        summary.count(&o);
        report.problems.add(&o.line(), &[]);
        (report, summary)
    }

    /// Numeric and named character references alike, as named ones.
    fn named_refs(page: &str) -> String {
        page.replace("&#60;", "&lt;")
            .replace("&#62;", "&gt;")
            .replace("&#34;", "&quot;")
            .replace("&#38;", "&amp;")
    }

    #[test]
    fn hostile_cells_are_escaped_and_huge_ones_cut() {
        let (report, summary) = hostile();
        let page = render(&report, &summary, &facts());
        // The page has no script of its own: any "<script" came from a cell.
        assert!(
            !page.to_lowercase().contains("<script"),
            "an unescaped <script> reached the page"
        );
        let page = named_refs(&page);
        // Shown, escaped: in the problems, the largest balances (HTML) and
        // the chart of types (SVG text).
        assert!(page.matches("&lt;script&gt;alert(").count() >= 4);
        assert!(!page.contains("cobranza\"><b>"), "a quote broke out");
        assert!(page.contains("cobranza&quot;&gt;&lt;b&gt;"));
        assert!(!page.contains("m&m.toml"), "& must be escaped");
        assert!(page.contains("m&amp;m.toml"));
        assert!(page.contains("data-column=\"Fecha&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""));
        // The 5 MB cell: cut, with a mark saying how long it was.
        assert!(page.len() < 300_000, "the page is {} bytes", page.len());
        assert!(page.contains(&"A".repeat(problems::MAX_CELL_CHARS)));
        assert!(!page.contains(&"A".repeat(problems::MAX_CELL_CHARS + 1)));
        assert!(page.contains("[cut: the cell has 5,242,880 characters]"));
    }

    #[test]
    fn the_page_loads_nothing_and_is_recognised_as_ours() {
        let (report, summary) = hostile();
        let page = render(&report, &summary, &facts());
        assert!(page.starts_with("<!DOCTYPE html>"));
        let head = &page[..page.find("</head>").unwrap()];
        assert!(head.contains(GENERATOR_META));
        assert!(
            head.contains("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';")
        );
        let lower = page.to_lowercase();
        for loads in [
            "src=", "href=", "url(", "@import", "<link", "<img", "<iframe", "<object", "<embed",
            "srcset",
        ] {
            assert!(!lower.contains(loads), "the page holds {loads}");
        }
        // Every chart drawn, the timeline too.
        for chart in [
            "status",
            "dpd-obligations",
            "dpd-balance",
            "balance-by-type",
            "balance-histogram",
            "timeline",
        ] {
            let at = page
                .find(&format!("data-chart=\"{chart}\""))
                .unwrap_or_else(|| panic!("no {chart}"));
            assert!(page[at..].contains("<svg"), "{chart}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.html");
        write(&path, &report, &summary, &facts()).unwrap();
        assert!(crate::outputs::written_by_us(
            &path,
            crate::outputs::OutputKind::Report
        ));
        assert!(!crate::outputs::written_by_us(
            &path,
            crate::outputs::OutputKind::Results
        ));
    }

    /// A dry run's page of `rows` valid rows without any report field.
    fn page_of(fields: MappedFields, rows: u64, f: &ReportFields) -> String {
        let mut report = Report::new(fields, None);
        let mut summary = Summary::new(true);
        for row in 2..2 + rows {
            report.portfolio.add_fields(row, "OB", f);
            summary.count(&Outcome::new(row, Status::Valid, "R", "OB"));
        }
        let mut facts = facts();
        facts.dry_run = true;
        render(&report, &summary, &facts)
    }

    #[test]
    fn nothing_is_derived_from_a_field_that_is_not_mapped() {
        let none = MappedFields::default();
        let page = page_of(none, 20, &ReportFields::default());
        let portfolio = &page[page.find("id=\"portfolio\"").unwrap()..];
        // No balance at all, not a balance of zero.
        assert!(!portfolio.contains("total balance of"), "{portfolio}");
        assert!(!portfolio.contains("0.00"), "{portfolio}");
        assert!(portfolio.contains(
            "20 valid obligations. The mapping has no total_balance field, so no balance is shown."
        ));
        // A chart that cannot be drawn for an unmapped field says so, and
        // nothing of rows "left out" for want of it.
        assert!(!portfolio.contains("left out"), "{portfolio}");
        assert!(!portfolio.contains("class=\"note\""), "{portfolio}");
        for (chart, field) in [
            ("dpd-obligations", "days_delay"),
            ("dpd-balance", "days_delay"),
            ("balance-by-type", "portfolio_type"),
            ("balance-histogram", "total_balance"),
            ("largest", "total_balance"),
        ] {
            let at = portfolio
                .find(&format!("data-missing=\"{chart}\">"))
                .unwrap_or_else(|| panic!("{chart} is not said missing"));
            assert!(
                portfolio[at..].starts_with(&format!(
                    "data-missing=\"{chart}\">The mapping has no {field} field"
                )),
                "{chart}"
            );
        }

        // Balances mapped, types not: the largest balances have no column
        // of types; rows without a readable days_delay, mapped, are told.
        let some = MappedFields {
            total_balance: true,
            days_delay: true,
            portfolio_type: false,
        };
        let f = ReportFields {
            total_balance: Some(1500.0),
            ..ReportFields::default()
        };
        let page = page_of(some, 3, &f);
        assert!(page.contains("3 valid obligations, with a total balance of 4,500.00."));
        assert!(page.contains("3 rows without a readable days_delay are left out."));
        let largest = &page[page.find("<table class=\"largest\">").unwrap()..];
        let largest = &largest[..largest.find("</table>").unwrap()];
        assert!(largest.contains("<th>Obligation</th>"));
        assert!(!largest.contains("Portfolio type"), "{largest}");
        assert_eq!(largest.matches("<tr>").count(), 4);
        assert_eq!(largest.matches("<td").count(), 3 * 4, "{largest}");
    }

    #[test]
    fn an_unmapped_field_is_said_not_drawn_empty() {
        let mut report = Report::new(
            MappedFields {
                total_balance: true,
                days_delay: false,
                portfolio_type: false,
            },
            None,
        );
        let f = ReportFields {
            total_balance: Some(10.0),
            ..ReportFields::default()
        };
        report.portfolio.add_fields(2, "A", &f);
        let mut summary = Summary::new(true);
        summary.count(&Outcome::new(2, Status::Valid, "R", "A"));
        let mut facts = facts();
        facts.dry_run = true;
        let page = render(&report, &summary, &facts);
        for chart in ["dpd-obligations", "dpd-balance", "balance-by-type"] {
            assert!(
                page.contains(&format!("data-missing=\"{chart}\"")),
                "{chart}"
            );
        }
        assert!(page.contains("no days_delay field"));
        assert!(page.contains("no portfolio_type field"));
        let at = page.find("data-chart=\"balance-histogram\"").unwrap();
        assert!(page[at..].starts_with("data-chart=\"balance-histogram\">\n<figcaption>"));
        assert!(page[at..page[at..].find("</figure>").unwrap() + at].contains("<svg"));
        assert!(!page.contains("data-chart=\"timeline\""));
    }
}
